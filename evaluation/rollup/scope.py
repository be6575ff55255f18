"""What a roll-up runs over and how the database is readied for it: the current framework, an area
as a range of codes, its counties, the rounds of a school year; the planner's memory and
statistics; and the announcement that an area's results changed (the pages' tokens)."""
from __future__ import annotations

from django.db import connection

from core.results_version import results_changed


def prefix_range(prefix: str) -> dict:
    """Codes under a prefix as a half-open range, which a plain b-tree index answers in any
    collation (codes are digits only): "3708" → ["3708", "3709")."""
    return {"lo": prefix, "hi": str(int(prefix) + 1).zfill(len(prefix))}


def current_framework():
    from evaluation.models import Framework

    return Framework.objects.order_by("-created_at", "-id").first()


def county_codes(prefix: str) -> list[str]:
    from townships.models import Division, Level

    return list(Division.objects.filter(level=Level.COUNTY, code__startswith=prefix).order_by("code").values_list("code", flat=True))


def rounds(period: int) -> list[int]:
    """The evaluation rounds of a school year: each has verdicts of its own (its judgments)."""
    from evaluation.models import Round

    return list(Round.objects.filter(period=period).values_list("id", flat=True))


def announce_changed(prefix: str) -> None:
    """Results under `prefix` changed: new tokens for the pages of the areas inside it (wider
    than a county, its counties, which bring their cities) and of those above it."""
    codes = [prefix] if len(prefix) >= 6 else [prefix, *county_codes(prefix)]
    results_changed(codes=codes)


def tune(cursor) -> None:
    """Sorts and hashes of a province's rows fit in memory rather than spilling to disk (the
    default 4 MB did); for this transaction only."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '64MB'")


ANALYZED_TABLES = (
    "evaluation_schoolyear", "evaluation_townshipyear", "evaluation_helprelation", "townships_school",
    "townships_division", "townships_pilottownship", "evaluation_pointresult", "evaluation_targetresult",
)


def refresh_statistics() -> None:
    """After bulk loads PostgreSQL's planner still believes the tables are empty and picks nested
    loops that cost minutes; fresh statistics make the roll-up's joins hash joins again."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(ANALYZED_TABLES))
