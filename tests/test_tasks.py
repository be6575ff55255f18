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
