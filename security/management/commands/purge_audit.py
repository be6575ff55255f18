from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from security.models import AuditEvent


class Command(BaseCommand):
    help = "Delete audit events older than AUDIT_RETENTION_DAYS (never fewer than 180 days)."

    def handle(self, *args, **options):
        days = max(180, settings.AUDIT_RETENTION_DAYS)
        deleted, _ = AuditEvent.objects.filter(at__lt=timezone.now() - timedelta(days=days)).delete()
        self.stdout.write(f"删除 {days} 天以前的审计记录 {deleted} 条")
