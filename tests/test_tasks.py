"""Tasks give the same result in-process (embedded default) and on a real worker (CI on Redis)."""
import csv

import pytest
from django.conf import settings

from townships.models import Division, Level
from townships.tasks import load_divisions_task


def expected_counts(province):
    directory = settings.BASE_DIR / "fixtures" / "divisions"
    counts = {}
    for name, key in [("provinces", "provinces"), ("cities", "cities"), ("areas", "counties"), ("streets", "townships")]:
        with (directory / f"{name}.csv").open(encoding="utf-8") as f:
            counts[key] = sum(1 for r in csv.DictReader(f) if r["code"].startswith(province))
    return counts


@pytest.mark.worker
def test_division_load_job_runs_on_the_worker_and_is_idempotent(celery_worker):
    result = load_divisions_task.delay(["11"]).get(timeout=120)
    assert result == expected_counts("11")
    assert Division.objects.filter(code__startswith="11", level=Level.TOWNSHIP).count() == result["townships"]
    before = sorted(Division.objects.filter(code__startswith="11").values_list("code", "name", "parent_id", "kind"))
    assert load_divisions_task.delay(["11"]).get(timeout=120) == result
    after = sorted(Division.objects.filter(code__startswith="11").values_list("code", "name", "parent_id", "kind"))
    assert after == before


@pytest.mark.worker
def test_a_large_upload_is_checked_and_committed_by_the_worker(celery_worker, client, world, settings):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from evaluation.models import ImportRun, SchoolYear
    from tests import import_files as f

    settings.IMPORT_ASYNC_BYTES = 100
    client.force_login(world.user("county_370881"))
    client.post("/data/upload/", {"file": SimpleUploadedFile("big.xlsx", f.school_year_xlsx())})
    run = ImportRun.objects.latest("id")

    def wait_for(status):
        deadline = time.monotonic() + 60
        while client.get(f"/data/imports/{run.pk}/status.json").json()["status"] != status:
            assert time.monotonic() < deadline, f"upload not {status} within 60 s"
            time.sleep(0.2)

    wait_for("previewed")
    assert SchoolYear.objects.count() == 0
    client.post(f"/data/imports/{run.pk}/commit/")
    wait_for("committed")
    assert set(SchoolYear.objects.values_list("school__code", flat=True)) == {"7370881001", "7370881002"}


def _results():
    from evaluation.models import AreaResult, PointResult, TargetResult, TownshipResult

    return {
        "points": sorted(PointResult.objects.values_list("division_code", "point_id", "period", "round_key", "stage", "value", "reference", "verdict", "previous_value")),
        "targets": sorted(TargetResult.objects.values_list("division_code", "target_number", "period", "round_key", "verdict", "score", "vetoed")),
        "townships": sorted(TownshipResult.objects.values_list("division_code", "period", "round_key", "targets_attained", "all_seven", "score")),
        "areas": sorted(AreaResult.objects.values_list("division_code", "period", "round_key", "population", "stage", "target_number", "townships", "attained")),
    }


def _wipe_results():
    from evaluation.models import AreaResult, PointResult, TargetResult, TownshipResult

    for model in (PointResult, TargetResult, TownshipResult, AreaResult):
        model.objects.all().delete()


def _demo(prefix):
    from evaluation.services.demo import load_demo_facts
    from evaluation.services.framework import load_framework
    from townships.services.demo import load_demo_schools

    # The framework first: loaded over existing facts it would queue their recomputation itself.
    load_framework()
    load_demo_schools(province_prefix=prefix, villages_per_township=2)
    load_demo_facts(province_prefix=prefix)


def _wait_job(job, seconds=180):
    import time

    from evaluation.models import RollupJob

    deadline = time.monotonic() + seconds
    while RollupJob.objects.get(pk=job.pk).status != "done":
        assert time.monotonic() < deadline, f"job not done: {RollupJob.objects.get(pk=job.pk).units_done}/{job.units_total}"
        time.sleep(0.3)


@pytest.mark.worker
def test_full_recomputation_on_workers_equals_one_in_process(celery_worker, geography):
    from evaluation.rollup import held_periods, rollup_all
    from evaluation.services.rollup_jobs import start_job

    _demo("3708")
    assert len(held_periods()) > 1
    # Every year held, oldest first within each county's task: later years read earlier ones.
    job = start_job(periods=held_periods(), prefix="3708")
    _wait_job(job)
    by_workers = _results()
    assert by_workers["points"] and by_workers["areas"]
    _wipe_results()
    rollup_all(prefix="3708")
    assert _results() == by_workers


@pytest.mark.worker
def test_killed_worker_job_completes_exactly_once_on_a_new_worker(worker_factory, geography):
    import os
    import signal
    import time

    from evaluation.models import RollupJob
    from evaluation.rollup import rollup_all
    from evaluation.services.rollup_jobs import start_job

    if worker_factory is None:
        pytest.skip("needs real workers (CI runs it on Redis)")
    _demo("37")
    # A short visibility timeout so the killed worker's unacknowledged task comes back quickly.
    first = worker_factory("w1", CELERY_VISIBILITY_TIMEOUT="5")
    job = start_job(periods=[2024], prefix="37")  # one year: previous values read no results (wiped)
    deadline = time.monotonic() + 120
    while RollupJob.objects.get(pk=job.pk).units.count() < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    done_at_kill = RollupJob.objects.get(pk=job.pk).units.count()
    assert done_at_kill < job.units_total, "the job finished before the kill; nothing was tested"
    worker_factory("w2", CELERY_VISIBILITY_TIMEOUT="5")
    _wait_job(job, seconds=400)
    job.refresh_from_db()
    assert job.units_done == job.units_total == job.units.count()
    after_crash = _results()
    _wipe_results()
    rollup_all(period=2024, prefix="37")
    assert _results() == after_crash


@pytest.mark.worker
def test_killed_worker_during_an_import_commits_it_exactly_once_on_a_new_worker(worker_factory, world):
    """SIGKILL the worker while it writes a large upload: nothing is half-written; a new worker
    commits it once (the commit is one transaction; the task comes back after the visibility
    timeout and is idempotent)."""
    import os
    import signal
    import time

    from django.db import connection

    from core.queueing import enqueue
    from evaluation.imports.service import preview_import, store_upload
    from evaluation.models import ImportRun, ImportStatus, SchoolYear
    from evaluation.tasks import commit_import_task
    from security.models import AuditEvent
    from tests.support.sheets import build_school_year_xlsx
    from townships.jurisdiction import resolve_jurisdiction
    from townships.services.demo import load_demo_schools

    if worker_factory is None:
        pytest.skip("needs real workers (CI runs it on Redis)")
    load_demo_schools(province_prefix="37", villages_per_township=8)
    rows = 12_000
    user = world.user("province")
    run = store_upload(user=user, jurisdiction=resolve_jurisdiction(user), data=build_school_year_xlsx(rows=rows), file_name="大文件.xlsx", channel="test")
    run = preview_import(run=run, jurisdiction=resolve_jurisdiction(user))
    assert run.status == ImportStatus.PREVIEWED, run.errors[:3]
    first = worker_factory("w1", CELERY_VISIBILITY_TIMEOUT="5")
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING)
    assert enqueue(commit_import_task, run.pk, user.pk, {})
    # Kill it in the middle of writing: when another session is seen writing the school years.
    deadline = time.monotonic() + 120
    writing = False
    while not writing:
        assert time.monotonic() < deadline, "the worker never started writing"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' "
                "AND query ILIKE '%%evaluation_schoolyear%%' AND (query ILIKE 'COPY%%' OR query ILIKE 'INSERT%%')"
            )
            writing = cursor.fetchone()[0] > 0
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    time.sleep(1)  # the server notices the dead client and rolls its transaction back
    assert ImportRun.objects.get(pk=run.pk).status != ImportStatus.COMMITTED, "committed before the kill; nothing was tested"
    assert SchoolYear.objects.filter(period=2024).count() == 0  # nothing half-written
    worker_factory("w2", CELERY_VISIBILITY_TIMEOUT="5")
    deadline = time.monotonic() + 300
    while ImportRun.objects.get(pk=run.pk).status != ImportStatus.COMMITTED:
        assert time.monotonic() < deadline, ImportRun.objects.get(pk=run.pk).message
        time.sleep(0.2)
    assert SchoolYear.objects.filter(period=2024).count() == rows
    assert AuditEvent.objects.filter(action="upload_commit", target__startswith=f"import:{run.pk} ").count() == 1
