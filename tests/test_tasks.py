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
