"""Thin tasks: ids in, one service call. Safe to run twice (a committed run is not committed again)."""
from celery import shared_task
from celery.signals import worker_ready

from core.queueing import flush_deferred_tasks
from evaluation.imports.service import ImportRefused, commit_import, preview_import
from evaluation.models import ImportRun, ImportStatus
from evaluation.services.rollup_jobs import run_area_counts, run_county_unit, start_nightly
from townships.jurisdiction import resolve_jurisdiction
from townships.models import User


@shared_task(acks_late=True)
def preview_import_task(run_id: int) -> str:
    run = ImportRun.objects.select_related("uploaded_by").get(pk=run_id)
    if run.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return run.status
    preview_import(run=run, jurisdiction=resolve_jurisdiction(run.uploaded_by))
    return run.status


@shared_task(acks_late=True)
def commit_import_task(run_id: int, user_id: int, confirmations: dict) -> str:
    run = ImportRun.objects.get(pk=run_id)
    if run.status == ImportStatus.COMMITTED:
        return run.status
    user = User.objects.get(pk=user_id)
    try:
        commit_import(run=run, user=user, jurisdiction=resolve_jurisdiction(user), confirmations=confirmations)
    except ImportRefused:
        pass  # the run records why (status and message) for the page to show
    return ImportRun.objects.get(pk=run_id).status


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def rollup_county_task(periods: list[int], county_code: str, job_id: int | None = None, judgments_only: bool = False,
                       round_keys: list[int] | None = None) -> str:
    """Recompute one county for the given school years, oldest first — a short, idempotent unit
    of work; a job counts it once even if it is delivered twice. In a job the unit also counts its
    areas; after a change the area counts follow in `area_counts_task`, shared by every county
    changed meanwhile. `round_keys`: after a form changed, its round (a task queued before rounds
    were named has none: every round of the year)."""
    return run_county_unit(periods=periods, county=county_code, job_id=job_id, judgments_only=judgments_only, round_keys=round_keys)


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def area_counts_task(period: int, province: str) -> str:
    """The counts of a province's areas, once for every county that changed since the last."""
    return run_area_counts(period=period, province=province)


@shared_task(acks_late=True)
def nightly_rollup_task() -> str:
    job = start_nightly()
    return f"job {job.pk}" if job else "skipped: another run holds the lock"


@worker_ready.connect
def flush_deferred_on_start(**kwargs) -> None:
    """A worker coming up (often: Redis came back) first queues what was kept meanwhile."""
    flush_deferred_tasks()


@shared_task(acks_late=True)
def flush_deferred_tasks_task() -> int:
    """Every minute (beat): queue what was kept while the broker was down."""
    return flush_deferred_tasks()
