"""Queueing that survives a lost broker: when Redis is down a task is kept in the database and
queued once the broker answers again, instead of failing the request that asked for it.

Tasks are named, not imported ("evaluation.tasks.rollup_county_task"), so the apps that queue
work never import the modules that do it (and core imports no app at all)."""
from __future__ import annotations

import logging
from importlib import import_module

from celery import current_app
from django.db import transaction

from core.models import DeferredTask

log = logging.getLogger(__name__)
# Fail fast when the broker is down: the request is waiting.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _task(name: str):
    # Through the registry, not send_task: eager mode (the embedded default) runs a registered
    # task in-process, which send_task would not. A web process has not necessarily imported
    # the task's module yet (a worker autodiscovers them): its name says where it is.
    if name not in current_app.tasks:
        try:
            import_module(name.rsplit(".", 1)[0])
        except ImportError:
            pass  # unknown: KeyError below
    return current_app.tasks[name]


def _name(task) -> str:
    return task if isinstance(task, str) else task.name


def enqueue(task, *args, countdown: float | None = None) -> bool:
    """Queue `task` (its name, or the task itself within its own app) with `args` (to run `countdown` seconds from now at the
    earliest); on a broker error keep it for later and return False."""
    name = _name(task)
    try:
        _task(name).apply_async(args=args, countdown=countdown, retry=True, retry_policy=RETRY_POLICY)
        return True
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise several kinds for "broker down"
        # In eager mode (the embedded default) there is no broker: the exception is the task's
        # own (SQLite's "database is locked" under concurrent writers, say), and the log must
        # say so, or the operator goes looking for a Redis that is not configured.
        if current_app.conf.task_always_eager:
            log.warning("task %s%r failed in-process, kept for a later run: %s", name, args, exc)
        else:
            log.warning("broker unavailable, deferring %s%r: %s", name, args, exc)
        DeferredTask.objects.create(task=name, args=list(args))
        return False


def enqueue_on_commit(task, *args, countdown: float | None = None) -> None:
    """Queue after the caller's transaction commits (a task must never see uncommitted data or
    run for a change that was rolled back)."""
    transaction.on_commit(lambda: enqueue(task, *args, countdown=countdown))


def flush_deferred_tasks(limit: int = 1000) -> int:
    """Queue what was deferred, oldest first; stop at the first broker error (it is still down)."""
    queued = 0
    for row in DeferredTask.objects.order_by("id")[:limit]:
        try:
            _task(row.task).apply_async(args=row.args, retry=True, retry_policy=RETRY_POLICY)
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
