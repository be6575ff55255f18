"""Thin tasks: ids in, one service call. Safe to run twice (a committed run is not committed again)."""
from celery import shared_task

from evaluation.imports.service import ImportRefused, commit_import, preview_import
from evaluation.models import ImportRun, ImportStatus
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
