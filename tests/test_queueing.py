"""What `core.queueing` says when a task cannot be queued or run: in eager mode (the embedded
default) there is no broker, so a failure is the task's own and the log must not blame Redis."""
import logging

import pytest
from celery import current_app
from django.db import OperationalError

from core.models import DeferredTask
from core.queueing import enqueue


@current_app.task(name="tests.test_queueing.locked_task")
def locked_task(unit_id):
    raise OperationalError("database is locked")


@pytest.mark.django_db
def test_an_eager_task_that_fails_is_kept_and_logged_as_its_own_failure(caplog):
    was_eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True  # as on the embedded default, also in the PostgreSQL pass
    try:
        with caplog.at_level(logging.WARNING, logger="core.queueing"):
            assert enqueue("tests.test_queueing.locked_task", 7) is False
    finally:
        current_app.conf.task_always_eager = was_eager
    kept = DeferredTask.objects.get()
    assert kept.task == "tests.test_queueing.locked_task" and kept.args == [7]
    assert "failed in-process" in caplog.text and "database is locked" in caplog.text
    assert "broker unavailable" not in caplog.text
