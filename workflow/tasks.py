"""Thin tasks: ids in, one service call, safe to run twice."""
from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

DAILY_LOCK = "workflow:daily"


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def daily_workflow_task() -> dict:
    """Once a day, under a lock so two runs never overlap: rectification items of every round
    with submitted forms, escalation of overdue items, reminders for late plans."""
    from evaluation.models import Round

    from .services.plans import remind_late_plans
    from .services.recheck import recheck_items
    from .services.rectification import escalate_overdue, sync_items

    if not cache.add(DAILY_LOCK, "1", timeout=900):
        return {"skipped": "another run holds the lock"}
    try:
        created = sum(sync_items(round=r) for r in Round.objects.order_by("id"))
        # A roll-up normally re-checks its counties itself; this catches any that ran without workflow.
        rechecked = recheck_items()
        escalated = escalate_overdue()
        reminded = remind_late_plans(year=timezone.localdate().year)
        return {"items": created, **rechecked, **escalated, "reminders": reminded}
    finally:
        cache.delete(DAILY_LOCK)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def sync_items_task(round_id: int, prefix: str) -> int:
    from evaluation.models import Round

    from .services.rectification import sync_items

    return sync_items(round=Round.objects.get(pk=round_id), prefix=prefix)
