"""Authentication events into the audit log (signals are the only hook Django and axes give)."""
import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import record


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    record(action="login", request=request, user=user)
    if request is not None and hasattr(request, "session"):
        # Activity starts at login (security.middleware measures idleness from here).
        request.session["last_seen"] = int(time.time())


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(action="logout", request=request, user=user)


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    record(action="login_failed", request=request, username=str(credentials.get("username", "")))


@receiver(user_locked_out)
def locked_out(sender, request, username, ip_address, **kwargs):
    record(action="locked_out", request=request, username=str(username or ""))
