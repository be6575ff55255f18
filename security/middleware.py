"""Session and account policy on every request: idle timeout, forced password change, second
factor. Placed after authentication (and django-otp's middleware)."""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .audit import record
from .context import current_request
from .policy import needs_second_factor, password_change_due

# Paths a user held up by the policy may still reach (to log out, change a password, pass the
# second factor, or load the page's static files).
OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/favicon.ico", "/healthz")
TOUCH_EVERY_S = 60


class AccountPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            response = self._policy(request)
        finally:
            current_request.reset(token)
        if response.status_code in (403, 404) and getattr(request, "user", None) is not None and request.user.is_authenticated:
            # Outside the area and missing answer alike (404); both are logged, with the path.
            record(action="access_refused", request=request, target=request.get_full_path()[:200], detail={"status": response.status_code})
        return response

    def _policy(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            seen = request.session.get("last_seen")
            if seen and now - seen > settings.SESSION_IDLE_TIMEOUT_S:
                record(action="session_timeout", request=request, user=user)
                logout(request)
                messages.info(request, _("You were logged out after %(m)d minutes without activity.") % {"m": settings.SESSION_IDLE_TIMEOUT_S // 60})
                return redirect_to_login(request.get_full_path())
            # Saved at most once a minute: not a session write on every request.
            if not seen or now - seen >= TOUCH_EVERY_S:
                request.session["last_seen"] = now
            if not request.path.startswith(OPEN_PREFIXES):
                if password_change_due(user):
                    return redirect("password_change")
                if needs_second_factor(user) and not user.is_verified():
                    return redirect("otp_verify")
        return self.get_response(request)
