"""The audit log: who, when, from where, what (old → new). Append-only: no screen or API edits
or deletes it, and on PostgreSQL a trigger refuses UPDATE and DELETE of events younger than the
retention period (migration 0002)."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # No constraint and no cascade: an event outlives its user and is never rewritten (the login
    # name is kept beside the id).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.DO_NOTHING,
                             db_constraint=False, related_name="+")
    username = models.CharField(_("login name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=30, db_index=True)
    target = models.CharField(_("object"), max_length=200, blank=True)
    area = models.CharField(_("area code"), max_length=12, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.target}"


class PasswordHistory(models.Model):
    """Earlier password hashes of a user (never the password itself), so a forced change cannot
    go straight back to an old one; `security.validators.PasswordHistoryValidator` keeps and reads it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("earlier password")
        verbose_name_plural = _("earlier passwords")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="password_history_user_at")]
