"""Recomputation jobs: split by county so a lost task costs little, counted exactly once, visible
to provincial staff; the nightly run holds a lock so two never overlap (RapidPro's cron_task)."""
from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from evaluation.models import RollupJob, RollupUnit
from evaluation.queueing import enqueue
from evaluation.rollup import county_codes, current_framework, refresh_statistics, rollup_county, rollup_levels

NIGHTLY_LOCK = "lock:nightly-rollup"
NIGHTLY_LOCK_SECONDS = 6 * 3600


def current_period() -> int:
    """The school year under way: it starts in September."""
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def run_county_unit(*, period: int, county: str, job_id: int | None) -> str:
    framework = current_framework()
    if framework is None:
        return "no framework"
    with transaction.atomic():
        rollup_county(framework=framework, period=period, county=county)
        rollup_levels(period=period, prefix=county)
        if job_id is not None:
            RollupUnit.objects.bulk_create([RollupUnit(job_id=job_id, county=county)], ignore_conflicts=True)
    if job_id is not None:
        _maybe_finish(job_id)
    return county


def _maybe_finish(job_id: int) -> None:
    with transaction.atomic():
        job = RollupJob.objects.select_for_update().get(pk=job_id)
        job.units_done = job.units.count()
        if job.units_done >= job.units_total and job.status != "done":
            job.status, job.finished_at = "done", timezone.now()
            if job.kind == "nightly":
                cache.delete(NIGHTLY_LOCK)
        job.save()


def start_job(*, period: int, prefix: str = "37", kind: str = "full") -> RollupJob:
    """A full recomputation split into one task per county (short units: a lost one costs little)."""
    from evaluation.tasks import rollup_county_task

    counties = county_codes(prefix) or [prefix]
    refresh_statistics()
    job = RollupJob.objects.create(kind=kind, period=period, prefix=prefix, units_total=len(counties))
    transaction.on_commit(lambda: [enqueue(rollup_county_task, period, c, job.pk) for c in counties])
    return job


def start_nightly() -> RollupJob | None:
    # cache.add is atomic on Redis: only one run gets the lock; it expires if a run dies.
    if not cache.add(NIGHTLY_LOCK, timezone.now().isoformat(), NIGHTLY_LOCK_SECONDS):
        return None
    return start_job(period=current_period(), kind="nightly")
