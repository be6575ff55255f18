"""Queueing that survives a lost broker: when Redis is down a task is kept in the database and
queued once the broker answers again, instead of failing the request that asked for it."""
from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

from evaluation.models import DeferredTask

log = logging.getLogger(__name__)
# Fail fast when the broker is down: the request is waiting.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task, *args, countdown: float | None = None) -> bool:
    """Queue `task(*args)` (to run `countdown` seconds from now at the earliest); on a broker
    error keep it for later and return False."""
    try:
        task.apply_async(args=args, countdown=countdown, retry=True, retry_policy=RETRY_POLICY)
        return True
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise several kinds for "broker down"
        log.warning("broker unavailable, deferring %s%r: %s", task.name, args, exc)
        DeferredTask.objects.create(task=task.name, args=list(args))
        return False


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))


def flush_deferred_tasks(limit: int = 1000) -> int:
    """Queue what was deferred, oldest first; stop at the first broker error (it is still down)."""
    queued = 0
    for row in DeferredTask.objects.order_by("id")[:limit]:
        try:
            current_app.tasks[row.task].apply_async(args=row.args, retry=True, retry_policy=RETRY_POLICY)
        except KeyError:
            log.error("deferred task %s is unknown; dropped", row.task)
            row.delete()
            continue
        except Exception as exc:  # noqa: BLE001
            DeferredTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
            log.warning("broker still unavailable: %s", exc)
            break
        row.delete()
        queued += 1
    return queued
