"""Thin tasks: ids in, one service call."""
from celery import shared_task

from surveys.services.counting import count_window


@shared_task(acks_late=True)
def count_window_task(window_id: int) -> str:
    return count_window(window_id=window_id)
