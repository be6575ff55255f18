"""Who must do what before using the portal: change a password (imported, or older than the
maximum age), pass the second factor (provincial staff and administrators)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone


def password_change_due(user) -> bool:
    if not settings.PASSWORD_POLICY_ENFORCED:
        return False
    if user.must_change_password:
        return True
    changed = user.password_changed_at or user.date_joined
    return timezone.now() - changed > timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def needs_second_factor(user) -> bool:
    # Duck-typed: security sits below townships and knows the user only by its predicates.
    return settings.OTP_REQUIRED and getattr(user, "is_provincial", False)
