from django.db import models


class ResultsVersion(models.Model):
    """A token per area (province, city or county code) that changes whenever what that area's
    result pages show changes, so pages can be cached by it. In the database, so every process
    (web, worker) agrees on it; a row per area, so a change in one county leaves the pages of
    every other county (and other cities) cached."""

    code = models.CharField(max_length=12, primary_key=True)
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)


class DeferredTask(models.Model):
    """A task that could not be queued because the broker (Redis) was down: kept here, in the
    database, and queued by `flush_deferred_tasks` once the broker answers again."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        # Moved here from evaluation with its rows: the table keeps its first name.
        db_table = "evaluation_deferredtask"
