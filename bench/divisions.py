"""Bench figures for the division tree: loading all of China's official codes."""
from django.db import connection, transaction

from bench.framework import Figure, timed
from townships.models import Division
from townships.services.divisions import load_divisions, read_division_rows


def _naive_load() -> None:
    # What one writes first: one INSERT per row through the ORM, in one transaction.
    with transaction.atomic():
        for row in read_division_rows(provinces=None):
            Division(code=row.code, name=row.name, level=row.level, parent_id=row.parent_id, kind=row.kind).save(
                force_insert=True
            )


def _wipe() -> None:
    # The bench database holds nothing else; one statement, no per-row PROTECT checks.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Division._meta.db_table}")


def division_figures(scale: str) -> list[Figure]:
    _wipe()
    naive = timed(_naive_load)
    _wipe()
    loaded = timed(lambda: load_divisions(provinces=None))
    total = Division.objects.count()
    reload = timed(lambda: load_divisions(provinces=None))
    assert Division.objects.count() == total == 31 + 342 + 2978 + 41352
    return [
        Figure("divisions.china_load_s", loaded, "s", naive, "per-row ORM inserts, same rows"),
        Figure("divisions.china_reload_s", reload, "s", naive, "per-row ORM inserts, same rows"),
        Figure("divisions.china_rows_per_s", total / loaded, "rows/s", total / naive, "per-row ORM inserts", higher_is_better=True),
    ]
