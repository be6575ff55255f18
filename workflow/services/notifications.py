"""In-portal notifications (and e-mail when settings ask for it)."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from townships.models import Role, User
from workflow.models import Notification


def staff_of(code: str, *roles: str):
    """Active users whose unit is `code` or an ancestor of it, in the given roles."""
    ancestors = [code[:n] for n in (2, 4, 6) if len(code) >= n]
    return User.objects.filter(is_active=True, role__in=roles, unit_id__in=ancestors)


def notify(*, users, kind: str, title: str, body: str = "", url: str = "", key: str) -> int:
    """One notice per user and key: re-running the job that sends it sends nothing new."""
    users = list(users)
    key = key[:120]
    seen = set(Notification.objects.filter(key=key, user__in=users).values_list("user_id", flat=True))
    users = [u for u in users if u.pk not in seen]
    rows = [Notification(user=u, kind=kind, title=title[:200], body=body, url=url, key=key) for u in users]
    # A concurrent run may have written the same notice meanwhile: the unique key absorbs it.
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if getattr(settings, "NOTIFY_BY_EMAIL", False):
        emails = [u.email for u in users if u.email]
        if emails:
            from django.core.mail import send_mass_mail

            transaction.on_commit(lambda: send_mass_mail([(title, f"{body}\n{url}", None, [e]) for e in emails], fail_silently=True))
    return len(created)


def mark_read(*, user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at=None)
    if ids is not None:
        qs = qs.filter(Q(pk__in=ids))
    return qs.update(read_at=timezone.now())


__all__ = ["notify", "mark_read", "staff_of", "Role"]
