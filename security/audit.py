"""Writing audit events. Callers pass what happened; the request (if any) gives who and from where."""
from __future__ import annotations

from django.conf import settings

from .models import AuditEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    # Behind the production proxy the client is the first X-Forwarded-For hop (settings say so).
    if getattr(settings, "AUDIT_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def record(*, action: str, request=None, user=None, username: str = "", target: str = "", area: str = "", detail: dict | None = None) -> AuditEvent:
    if request is None:
        from .context import current_request

        request = current_request.get()
    if user is None and request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
        user = request.user
    return AuditEvent.objects.create(
        user=user if user is not None and getattr(user, "pk", None) else None,
        username=(username or (user.get_username() if user is not None and getattr(user, "pk", None) else ""))[:150],
        ip=client_ip(request), action=action, target=str(target)[:200], area=area or "", detail=detail or {},
    )


def changes(old: dict, new: dict) -> dict:
    """Only what changed, old → new, as text."""
    return {k: [str(old.get(k)), str(new.get(k))] for k in sorted(set(old) | set(new)) if str(old.get(k)) != str(new.get(k))}
