"""Bench figures for the spreadsheet import (issue: 30,000 school-year rows from XLSX)."""
from __future__ import annotations

import io
import os
import resource
import time

from django.db import connection, connections

from bench.clients import SPAWN, in_django
from bench.floors import upload_floor_s
from bench.framework import Figure
from evaluation.imports import columns as c
from evaluation.imports.service import import_file
from evaluation.models import ImportStatus, SchoolYear
from tests.support.live_server import database_url
from tests.support.sheets import build_school_year_xlsx
from townships.jurisdiction import Jurisdiction
from townships.models import Division, Role, School, User
from townships.services.demo import load_demo_schools
from townships.services.divisions import load_divisions

ROWS = 30_000
PERIOD = 2024


def _bench_user() -> User:
    user, _ = User.objects.get_or_create(username="bench-province", defaults={"role": Role.PROVINCE_STAFF, "unit_id": "37", "is_staff": True})
    return user


def _ours(data: bytes) -> None:
    user = _bench_user()
    j = Jurisdiction(frozenset({"37"}))
    run = import_file(user=user, jurisdiction=j, data=data, file_name="bench.xlsx", channel="cli", dry_run=False)
    assert run.status == ImportStatus.COMMITTED, (run.status, run.errors[:3], run.message)


def child_peak(data: bytes) -> tuple[float, float]:
    """In a process of its own (bench/clients.py's `in_django`), so its peak memory is the import's."""
    from portal.celery import app

    # As in production, the upload ends when its downstream work (the roll-up) is queued for the
    # workers, not when it has run: queue on the in-memory broker instead of running eagerly.
    if app.conf.broker_url.startswith("memory://"):
        app.conf.task_always_eager = False
    started = time.perf_counter()
    _ours(data)
    elapsed = time.perf_counter() - started
    connections.close_all()
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _wipe_years() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SchoolYear._meta.db_table}")


def _import_export(data: bytes, bulk: bool) -> None:
    from import_export import fields, resources, widgets

    class SchoolYearResource(resources.ModelResource):
        school = fields.Field(attribute="school", column_name="学校标识码", widget=widgets.ForeignKeyWidget(School, "code"))
        period = fields.Field(attribute="period", column_name="学年")

        def before_import_row(self, row, **kwargs):
            # The default path has no notion of our value formats; give it what it needs to save.
            for col in c.SCHOOL_YEARS.columns[3:]:
                v = row.get(col.header)
                if col.kind == c.BOOL:
                    row[col.header] = None if v in (None, "") else v == "是"
                elif col.kind == c.GRADE:
                    row[col.header] = {"优": "excellent", "良": "good", "合格": "pass", "不合格": "fail"}.get(v, "")

        def before_save_instance(self, instance, row, **kwargs):
            instance.township_id = instance.school.township_id

        class Meta:
            model = SchoolYear
            import_id_fields = ("school", "period")
            fields = ("school", "period", *[col.key for col in c.SCHOOL_YEARS.columns[3:]])
            if bulk:
                use_bulk = True
                batch_size = 1000
                skip_diff = True
                force_init_instance = True

    for col in c.SCHOOL_YEARS.columns[3:]:
        SchoolYearResource.fields[col.key].column_name = col.header
    import tablib

    dataset = tablib.Dataset().load(io.BytesIO(data), format="xlsx")
    result = SchoolYearResource().import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    assert not result.has_errors()


def _ensure_data(scale: str) -> None:
    if not Division.objects.filter(code="37").exists():
        load_divisions(provinces={"37"})
    if School.objects.count() < ROWS:
        load_demo_schools(villages_per_township=24)


def _in_child(target: str, *args):
    queue = SPAWN.Queue()
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    proc = SPAWN.Process(target=in_django, args=(settings_module, database_url(), target, args, queue))
    proc.start()
    try:
        state, result = queue.get(timeout=900)
    finally:
        proc.join(timeout=60)
        if proc.is_alive():
            proc.kill()
    if state != "ok":
        raise RuntimeError(f"{target} in a child process: {result}")
    return result


def import_figures(scale: str) -> list[Figure]:
    _ensure_data(scale)
    data = build_school_year_xlsx(rows=ROWS, period=PERIOD)
    _wipe_years()
    # Ours, in a fresh process so its peak memory is its own.
    ours_s, peak_mb = _in_child("bench.imports:child_peak", data)
    assert SchoolYear.objects.filter(period=PERIOD).count() == ROWS
    floor_s = min(upload_floor_s(data) for _ in range(2))  # the better of two: a floor is the least it costs
    _wipe_years()
    started = time.perf_counter()
    _import_export(data, bulk=True)
    bulk_s = time.perf_counter() - started
    assert SchoolYear.objects.filter(period=PERIOD).count() == ROWS
    _wipe_years()
    started = time.perf_counter()
    _import_export(data, bulk=False)
    default_s = time.perf_counter() - started
    assert SchoolYear.objects.filter(period=PERIOD).count() == ROWS
    # Re-importing the same file over existing rows: all unchanged, nothing written.
    started = time.perf_counter()
    _ours(data)
    reimport_s = time.perf_counter() - started
    return [
        Figure("import.rows_per_s", ROWS / ours_s, "rows/s", ROWS / default_s, "django-import-export default ModelResource", higher_is_better=True,
               floor=ROWS / floor_s),
        Figure("import.seconds_30k", ours_s, "s", bulk_s, "django-import-export bulk (use_bulk, skip_diff, force_init_instance)", floor=floor_s),
        Figure("import.ratio_vs_floor", floor_s / ours_s, "×", None, f"floor: calamine read + {'COPY' if connection.vendor == 'postgresql' else 'executemany'} into a bare table took {floor_s:.2f} s; target ≥ 0.35"),
        Figure("import.ratio_vs_default", default_s / ours_s, "×", None, f"default path took {default_s:.1f} s"),
        Figure("import.ratio_vs_bulk", bulk_s / ours_s, "×", None, f"bulk path took {bulk_s:.1f} s"),
        Figure("import.reimport_unchanged_s", reimport_s, "s", ours_s, "first import of the same file"),
        Figure("import.peak_rss_mb", peak_mb, "MB", None, "peak RSS of the process that imported (limit 300)"),
    ]
