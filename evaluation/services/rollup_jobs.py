"""Recomputation jobs: split by county so a lost task costs little, counted exactly once, visible
to provincial staff; the nightly run holds a lock so two never overlap (RapidPro's cron_task)."""
from __future__ import annotations

from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.queueing import enqueue
from core.results_version import one_bump_at_the_end
from evaluation.models import AreaCountsDue, RollupJob, RollupUnit
from evaluation.rollup import county_codes, current_framework, refresh_statistics, rollup_county, rollup_judgments, rollup_levels

# Queued by name: the tasks module imports this one, never the other way round.
COUNTY_TASK = "evaluation.tasks.rollup_county_task"
AREA_COUNTS_TASK = "evaluation.tasks.area_counts_task"
NIGHTLY_LOCK = "lock:nightly-rollup"
NIGHTLY_LOCK_SECONDS = 6 * 3600
# Area counts wait for a pause this long in the counties' changes, so a burst shares one count,
# but never longer than the maximum after the first change.
AREA_COUNTS_QUIET_S = 2
AREA_COUNTS_MAX_WAIT_S = 10
AREA_COUNTS_LOST_S = 6 * AREA_COUNTS_MAX_WAIT_S


def current_period() -> int:
    """The school year under way: it starts in September."""
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def run_county_unit(*, period: int, county: str, job_id: int | None, judgments_only: bool = False) -> str:
    framework = current_framework()
    if framework is None:
        return "no framework"
    with transaction.atomic(), one_bump_at_the_end():
        if judgments_only:
            rollup_judgments(framework=framework, period=period, county=county)
        else:
            rollup_county(framework=framework, period=period, county=county)
        if job_id is None:
            # A change (an upload, a form): the areas above are counted by one task for every
            # county that changed meanwhile (see AreaCountsDue).
            owe_area_counts(period=period, county=county)
        else:
            rollup_levels(period=period, prefix=county)
            RollupUnit.objects.bulk_create([RollupUnit(job_id=job_id, county=county)], ignore_conflicts=True)
    if job_id is not None:
        _maybe_finish(job_id)
    return county


def owe_area_counts(*, period: int, county: str, now=None) -> None:
    """Inside the county's transaction: its province's area counts are owed. The first county of a
    burst queues the counting task; the row stays locked to the commit, so a count that starts
    later sees this county's results."""
    now = now or timezone.now()
    province = county[:2]
    AreaCountsDue.objects.bulk_create([AreaCountsDue(period=period, province=province)], ignore_conflicts=True)
    due = AreaCountsDue.objects.select_for_update().get(period=period, province=province)
    first = due.requested == due.computed
    # A count owed for much longer than a burst may wait means its task was lost (a broker
    # purged, a task dropped): queue another; a spare one finds nothing owed and does nothing.
    lost = not first and due.owed_since is not None and (now - due.owed_since).total_seconds() > AREA_COUNTS_LOST_S
    due.requested += 1
    due.last_requested_at = now
    if first:
        due.owed_since = now
    due.save(update_fields=["requested", "last_requested_at", "owed_since"])
    if first or lost:
        _queue_area_counts(period=period, province=province, after_s=AREA_COUNTS_QUIET_S)


def queue_rollup(*, periods, township_codes, judgments_only: bool = False) -> None:
    """After a commit: recompute the counties of the affected 乡镇 (one task each); kept for
    later if the broker is down (the change itself has been saved). `judgments_only`: only
    inspectors' forms changed, not school or township data."""
    for period in sorted(set(periods)):
        for county in sorted({code[:6] for code in township_codes}):
            enqueue(COUNTY_TASK, period, county, None, judgments_only)


def queue_rollup_on_commit(*, periods, township_codes, judgments_only: bool = False) -> None:
    periods, township_codes = list(periods), list(township_codes)
    transaction.on_commit(lambda: queue_rollup(periods=periods, township_codes=township_codes, judgments_only=judgments_only))


def _queue_area_counts(*, period: int, province: str, after_s: float) -> None:
    transaction.on_commit(lambda: enqueue(AREA_COUNTS_TASK, period, province, countdown=after_s))


def run_area_counts(*, period: int, province: str, now=None) -> str:
    """Count a province's areas if any county changed since the last count — once the changes
    have paused for AREA_COUNTS_QUIET_S, or at the latest AREA_COUNTS_MAX_WAIT_S after the first,
    so the dashboards are never further behind. Safe to run twice or late."""
    with transaction.atomic(), one_bump_at_the_end():
        # Waits for counties still committing; their results are visible to the counts below.
        due = AreaCountsDue.objects.select_for_update().filter(period=period, province=province).first()
        if due is None or due.computed >= due.requested:
            return "current"
        now = now or timezone.now()
        quiet = (now - due.last_requested_at).total_seconds()
        waited = (now - due.owed_since).total_seconds()
        # Tasks run in-process (the embedded default) cannot wait: count now.
        if quiet < AREA_COUNTS_QUIET_S and waited < AREA_COUNTS_MAX_WAIT_S and not current_app.conf.task_always_eager:
            _queue_area_counts(period=period, province=province,
                               after_s=min(AREA_COUNTS_QUIET_S - quiet, AREA_COUNTS_MAX_WAIT_S - waited))
            return "waiting"
        rollup_levels(period=period, prefix=province)
        AreaCountsDue.objects.filter(pk=due.pk).update(computed=due.requested)
    return "counted"


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
    counties = county_codes(prefix) or [prefix]
    refresh_statistics()
    job = RollupJob.objects.create(kind=kind, period=period, prefix=prefix, units_total=len(counties))
    transaction.on_commit(lambda: [enqueue(COUNTY_TASK, period, c, job.pk) for c in counties])
    return job


def start_nightly() -> RollupJob | None:
    # cache.add is atomic on Redis: only one run gets the lock; it expires if a run dies.
    if not cache.add(NIGHTLY_LOCK, timezone.now().isoformat(), NIGHTLY_LOCK_SECONDS):
        return None
    return start_job(period=current_period(), kind="nightly")
