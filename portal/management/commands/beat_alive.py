"""Health check of the beat container: its schedule is ticking. Beat (django-celery-beat's
DatabaseScheduler) records when it last sent each periodic task; the every-minute task
(flush-deferred-tasks) keeps that recent while beat runs. Exit status 1 when it is not."""
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import PeriodicTask


class Command(BaseCommand):
    help = "Exit non-zero unless Celery beat has sent a periodic task within --max-age seconds."

    def add_arguments(self, parser):
        # Beat writes what it sent every 3 minutes (the scheduler's sync interval) plus one tick.
        parser.add_argument("--max-age", type=int, default=300)

    def handle(self, *args, max_age, **options):
        last = PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))["last"]
        if last is None or timezone.now() - last > timedelta(seconds=max_age):
            raise CommandError(f"beat has sent nothing since {last or 'it started'}")
        self.stdout.write(f"beat ticking: last sent {(timezone.now() - last).total_seconds():.0f} s ago")
