"""Recomputation jobs: split by county so a lost task costs little, counted exactly once, visible
to provincial staff; the nightly run holds a lock so two never overlap (RapidPro's cron_task)."""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

from celery import current_app
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core import ports
from core.queueing import enqueue
from core.results_version import one_bump_at_the_end, results_changed
from evaluation.models import AreaCountsDue, Framework, RollupJob, RollupUnit
from evaluation.rollup import counties_holding, county_codes, held_periods, periods_reading, refresh_statistics, rollup_county, rollup_judgments, rollup_levels
from evaluation.rollup.value_added import rollup_value_added

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
# A submitted or returned form's roll-up starts this long after its commit. Forms come in bursts
# (a round's deadline): measured with 50 double submits at once on 2 cores, roll-ups started at
# once took a fifth of the CPU while the submits waited (p95 0.97–1.14 s against 0.67 s with the
# worker idle). The township's judgments reach its pages this much later.
FORM_ROLLUP_DELAY_S = 2


def current_period() -> int:
    """The school year under way: it starts in September."""
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def _as_periods(periods) -> list[int]:
    # A task queued before periods became a list (a kept DeferredTask, a redelivery) names one.
    return sorted({int(p) for p in (periods if isinstance(periods, (list, tuple)) else [periods])})


def _lock_county(county: str) -> None:
    """Two recomputations of one county wait for each other: one that read a year before the
    other wrote it would otherwise write stale previous values over fresh ones. (SQLite
    serialises writers anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x5A5A, int(county[:6].ljust(6, "0"))])


def run_county_unit(*, periods, county: str, job_id: int | None, judgments_only: bool = False, round_keys: list[int] | None = None) -> str:
    """One county for the given school years, oldest first, in one transaction: a later year's
    previous values and trend verdicts read the year before, as it is now. `judgments_only`: an
    inspectors' form changed — the judgments and verdicts of its round (`round_keys`; None: every
    round of the year)."""
    if not Framework.objects.exists():
        return "no framework"
    with transaction.atomic(), one_bump_at_the_end():
        _lock_county(county)
        for period in _as_periods(periods):
            if judgments_only:
                rollup_judgments(period=period, county=county, round_keys=round_keys)
            else:
                rollup_county(period=period, county=county)
            if job_id is None:
                # A change (an upload, a form): the areas above are counted by one task for every
                # county that changed meanwhile (see AreaCountsDue).
                owe_area_counts(period=period, county=county)
            else:
                rollup_levels(period=period, prefix=county)
        # Higher apps read the new results in the same transaction (rectification re-checks).
        ports.results_recomputed(county_codes=[county], periods=_as_periods(periods))
        if job_id is not None:
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


_held_back: contextvars.ContextVar[bool] = contextvars.ContextVar("rollup_held_back", default=False)


@contextmanager
def recomputation_held_back():
    """For a bulk load that recomputes every year itself when it is done (the demo, the bench):
    the recomputations its steps would queue one by one are not queued."""
    token = _held_back.set(True)
    try:
        yield
    finally:
        _held_back.reset(token)


def queue_rollup(*, periods, township_codes, judgments_only: bool = False, round_keys: list[int] | None = None) -> None:
    """After a commit: recompute the counties of the affected 乡镇 (one task each) for the given
    school years and — unless only inspectors' forms changed, which no other year reads — every
    later year held, whose previous values and trend verdicts read them; when only forms changed,
    only their rounds (`round_keys`). Kept for later if the broker is down (the change itself has
    been saved)."""
    if _held_back.get():
        return
    years = sorted(set(periods)) if judgments_only else periods_reading(periods)
    if not years:
        return
    for county in sorted({code[:6] for code in township_codes}):
        enqueue(COUNTY_TASK, years, county, None, judgments_only, round_keys, countdown=FORM_ROLLUP_DELAY_S if judgments_only else None)


def queue_rollup_on_commit(*, periods, township_codes, judgments_only: bool = False, round_keys: list[int] | None = None) -> None:
    periods, township_codes = list(periods), list(township_codes)
    transaction.on_commit(lambda: queue_rollup(periods=periods, township_codes=township_codes, judgments_only=judgments_only, round_keys=round_keys))


def queue_years_from_on_commit(township_codes, from_period: int | None = None) -> None:
    """After a commit: the 乡镇's counties for every year held from `from_period` on (None: all),
    the years read when the task is queued, so a year added meanwhile is not missed."""
    codes = list(township_codes)

    def queue():
        years = [p for p in held_periods() if from_period is None or p >= from_period]
        queue_rollup(periods=years, township_codes=codes)

    transaction.on_commit(queue)


def queue_framework_rollup_on_commit(*, province: str = "37") -> None:
    """A framework version appeared or changed: every year held may be judged otherwise now (the
    version in force changed; a round's version never does), in every county that holds facts
    or results."""
    transaction.on_commit(lambda: queue_rollup(periods=held_periods(), township_codes=counties_holding(province)))


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
        finished = job.units_done >= job.units_total and job.status != "done"
        if finished:
            job.status, job.finished_at = "done", timezone.now()
            if job.kind == "nightly":
                cache.delete(NIGHTLY_LOCK)
        job.save()
    if finished:
        # The value-added fit is province-wide: once, after the last county, not per county.
        with transaction.atomic(), one_bump_at_the_end():
            for period in _as_periods(job.periods or [job.period]):
                results_changed(codes=rollup_value_added(period=period, province=job.prefix[:2]))


def start_job(*, periods, prefix: str = "37", kind: str = "full") -> RollupJob:
    """A full recomputation split into one task per county (short units: a lost one costs little),
    each computing the given school years oldest first."""
    periods = _as_periods(periods)
    counties = county_codes(prefix) or [prefix]
    refresh_statistics()
    job = RollupJob.objects.create(kind=kind, period=periods[-1], periods=periods, prefix=prefix, units_total=len(counties))
    transaction.on_commit(lambda: [enqueue(COUNTY_TASK, periods, c, job.pk) for c in counties])
    return job


def start_nightly() -> RollupJob | None:
    """Every school year held, not only the current one: a correction of any year, and whatever
    reached the tables around the services, is caught by the next night. At a province's scale
    a year costs seconds, so every year is cheaper than tracking which changed."""
    # cache.add is atomic on Redis: only one run gets the lock; it expires if a run dies.
    if not cache.add(NIGHTLY_LOCK, timezone.now().isoformat(), NIGHTLY_LOCK_SECONDS):
        return None
    return start_job(periods=held_periods() or [current_period()], kind="nightly")
