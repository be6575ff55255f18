"""What a roll-up runs over and how the database is readied for it: the current framework, an area
as a range of codes, its counties, the rounds of a school year; the planner's memory and
statistics; and the announcement that an area's results changed (the pages' tokens)."""
from __future__ import annotations

import contextlib

from django.db import IntegrityError, connection, transaction

from core.results_version import results_changed

# Above every code: codes are at most 12 digits, and a string of digits sorts below a longer one
# it begins (in any collation, as digits are all codes hold).
ABOVE_EVERY_CODE = "9" * 13


def prefix_range(prefix: str) -> dict:
    """Codes under a prefix as a half-open range, which a plain b-tree index answers in any
    collation (codes are digits only): "3708" → ["3708", "3709"); "" → every code."""
    if not prefix:
        return {"lo": "", "hi": ABOVE_EVERY_CODE}
    return {"lo": prefix, "hi": str(int(prefix) + 1).zfill(len(prefix))}


def current_framework():
    """The newest version (the one a new round is offered by default)."""
    from evaluation.models import Framework

    return Framework.objects.order_by("-created_at", "-id").first()


def framework_for_period(period: int):
    """The version in force for a school year: the latest to apply from it or earlier (of two
    from the same year, the newer); before the first version's year, the first version."""
    from evaluation.models import Framework

    in_force = Framework.objects.filter(applies_from__lte=period).order_by("-applies_from", "-created_at", "-id").first()
    return in_force or Framework.objects.order_by("applies_from", "created_at", "id").first()


def frameworks_by_round(period: int) -> dict:
    """Round key → the framework its results are judged by: 0 (school data alone) the version in
    force for the year, each round the version it names — which a new version never changes."""
    from evaluation.models import Round

    by_round = {0: framework_for_period(period)}
    by_round.update({r.pk: r.framework for r in Round.objects.filter(period=period).select_related("framework").order_by("pk")})
    return by_round


def frameworks_in_use(period: int) -> list:
    seen = {}
    for framework in frameworks_by_round(period).values():
        if framework is not None:
            seen.setdefault(framework.pk, framework)
    return list(seen.values())


HELD_PERIODS_SQL = """
SELECT period FROM evaluation_schoolyear UNION SELECT period FROM evaluation_townshipyear
UNION SELECT period FROM evaluation_helprelation UNION SELECT period FROM evaluation_round
UNION SELECT period FROM evaluation_pointresult
"""


def held_periods() -> list[int]:
    """Every school year the portal holds facts, rounds or results of."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT period FROM (" + HELD_PERIODS_SQL + ") p ORDER BY period")
        return [row[0] for row in cursor.fetchall()]


def periods_reading(periods) -> list[int]:
    """The school years whose results read the facts of `periods`: each of them, and every later
    year held (its previous values and trend verdicts read the year before, which read the one
    before that). Ascending: a year is computed after the years it reads."""
    periods = set(periods)
    if not periods:
        return []
    first = min(periods)
    return sorted(periods | {p for p in held_periods() if p > first})


# The counties with something to judge in the school year %(period)s under the range: its facts
# or a round's townships. Only they have results for the year — a county whose schools all moved
# away has none left, exactly as if it never had any (what a recomputation from scratch gives).
HELD_COUNTIES_SQL = """
SELECT SUBSTR(township_id, 1, 6) FROM evaluation_schoolyear WHERE period = %(period)s AND township_id >= %(lo)s AND township_id < %(hi)s
UNION SELECT SUBSTR(township_id, 1, 6) FROM evaluation_townshipyear WHERE period = %(period)s AND township_id >= %(lo)s AND township_id < %(hi)s
UNION SELECT SUBSTR(township_id, 1, 6) FROM evaluation_helprelation WHERE period = %(period)s AND township_id >= %(lo)s AND township_id < %(hi)s
UNION SELECT SUBSTR(rt.township_id, 1, 6) FROM evaluation_roundtownship rt JOIN evaluation_round r ON r.id = rt.round_id
  WHERE r.period = %(period)s AND rt.township_id >= %(lo)s AND rt.township_id < %(hi)s
"""


def drop_unheld(cursor, table: str, params: dict) -> None:
    """Remove a table's results of the year under the range in counties that hold nothing now."""
    cursor.execute(
        f"DELETE FROM {table} WHERE period = %(period)s AND division_code >= %(lo)s AND division_code < %(hi)s "
        f"AND SUBSTR(division_code, 1, 6) NOT IN ({HELD_COUNTIES_SQL})", params)


HOLDING_COUNTIES_SQL = """
SELECT SUBSTR(township_id, 1, 6) AS code FROM evaluation_schoolyear UNION SELECT SUBSTR(township_id, 1, 6) FROM evaluation_townshipyear
UNION SELECT SUBSTR(township_id, 1, 6) FROM evaluation_roundtownship
UNION SELECT SUBSTR(division_code, 1, 6) FROM evaluation_pointresult WHERE LENGTH(division_code) = 9
"""


def counties_holding(prefix: str = "") -> list[str]:
    """The counties with facts, rounds or results: the ones a change of framework can change."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT code FROM (" + HOLDING_COUNTIES_SQL + ") q ORDER BY code")
        return [row[0] for row in cursor.fetchall() if row[0].startswith(prefix)]


def county_codes(prefix: str) -> list[str]:
    from townships.models import Division, Level

    return list(Division.objects.filter(level=Level.COUNTY, code__startswith=prefix).order_by("code").values_list("code", flat=True))


def province_codes() -> list[str]:
    from townships.models import Division, Level

    return list(Division.objects.filter(level=Level.PROVINCE).order_by("code").values_list("code", flat=True))


def rounds(period: int) -> list[int]:
    """The evaluation rounds of a school year: each has verdicts of its own (its judgments)."""
    from evaluation.models import Round

    return list(Round.objects.filter(period=period).values_list("id", flat=True))


def announce_changed(prefix: str) -> None:
    """Results under `prefix` changed: new tokens for the pages of the areas inside it (wider
    than a county, its counties, which bring their cities) and of those above it."""
    if not prefix:
        codes = county_codes(prefix)  # the whole country: every county brings its city and province
    else:
        codes = [prefix] if len(prefix) >= 6 else [prefix, *county_codes(prefix)]
    results_changed(codes=codes)


ROLLUP_WORK_MEM = "64MB"


@contextlib.contextmanager
def work_mem(cursor, size: str):
    """Sorts and hashes of the statements inside may use `size` each (PostgreSQL)."""
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute(f"SET LOCAL work_mem = '{size}'")
    try:
        yield
    finally:
        cursor.execute(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'")


def tune(cursor) -> None:
    """Sorts and hashes of a province's rows fit in memory rather than spilling to disk (the
    default 4 MB did); for this transaction only. And no JIT: the statements are wide (a column
    and a CASE per point) over a few tens of thousands of rows, so compiling them took longer
    than running them (auto_explain: 55–120 ms of JIT for the base rows' 150 ms scan)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{ROLLUP_WORK_MEM}'")
        cursor.execute("SET LOCAL jit = off")


@contextlib.contextmanager
def planner_without(cursor, *methods: str):
    """Plan the statements inside without `methods` ("nestloop", …), for this transaction: for
    joins with a result table right after a bulk write, whose statistics still say it is empty.
    Guessing one row, the planner nests loops over tens of thousands, scanning the table for
    each (70 s of CPU for Shandong's points when last year's results were there); hashing is
    the plan."""
    if connection.vendor != "postgresql":
        yield
        return
    for method in methods:
        cursor.execute(f"SET LOCAL enable_{method} = off")
    try:
        yield
    finally:
        for method in methods:
            cursor.execute(f"SET LOCAL enable_{method} TO DEFAULT")


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


ANY_RESULT_SQL = (
    "SELECT 1 FROM {table} WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s LIMIT 1"
)


def has_results(cursor, *, table: str, params: dict, probe: str | None = None) -> bool:
    """Whether `table` holds results of the year and round (`params`) under the range — or those
    `probe` (a `SELECT 1 … LIMIT 1` over the same parameters) looks for."""
    cursor.execute(probe or ANY_RESULT_SQL.format(table=table), params)
    return cursor.fetchone() is not None


def insert_or_upsert(
    cursor, *, insert: str, upsert: str, table: str, params: dict, probe: str | None = None, returning: str = ""
) -> tuple[int, list]:
    """Write the rows `insert` selects into `table`, which holds at most one row per key: a plain
    INSERT when the table has nothing of this year and round under the range (a first computation,
    where the conflict check on every row was a quarter of the write), else with the conflict
    clause `upsert`. Should another run write the same rows meanwhile, the savepoint falls back to
    the upsert. `probe`: see `has_results`; `returning`: a RETURNING clause. Returns the number of
    rows written (inserted or changed) and those RETURNING gave — fetched inside the savepoint,
    as SQLite writes a RETURNING statement's rows only as they are fetched."""
    def write(sql: str) -> tuple[int, list]:
        cursor.execute(sql + returning, params)
        rows = cursor.fetchall() if returning else []
        return (len(rows) if returning else cursor.rowcount), rows

    if not has_results(cursor, table=table, params=params, probe=probe):
        try:
            with transaction.atomic():
                return write(insert)
        except IntegrityError:
            pass
    return write(insert + upsert)
