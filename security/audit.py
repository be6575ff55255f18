"""Writing audit events. Callers pass what happened; the request (if any) gives who and from where."""
from __future__ import annotations

import ipaddress

from django.conf import settings

from .models import AuditEvent


def _trusted(address: str, proxies: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(p, strict=False) for p in proxies)


def client_ip(request) -> str | None:
    """The client's address: the connection's, unless it comes from a configured proxy
    (`TRUSTED_PROXIES`); then the rightmost X-Forwarded-For address that is not a proxy — the one
    the proxy itself saw. What a client writes into the header lands to its left and is ignored."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TRUSTED_PROXIES", [])
    if remote and proxies and _trusted(remote, proxies):
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not _trusted(hop, proxies):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return remote  # not an address: the proxy was not the one that wrote it
    return remote


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
