"""Password rules beyond Django's own: at least three of the four character classes."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"), re.compile(r"[^a-zA-Z0-9]"))


class MinimumLengthValidator:
    """Django's rule with a message of our own (its Chinese catalogue lacks the current wording)."""

    def __init__(self, min_length: int = 8):
        self.min_length = min_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(_("This password is too short: it must have at least %(n)d characters.") % {"n": self.min_length}, code="password_too_short")

    def get_help_text(self):
        return _("Your password must have at least %(n)d characters.") % {"n": self.min_length}


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if sum(1 for c in CLASSES if c.search(password)) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return _("Your password must contain at least %(n)d of: lower-case letters, upper-case letters, digits, other characters.") % {"n": self.min_classes}


class PasswordHistoryValidator:
    """None of the user's last `remember` passwords again (the current one included). Django
    calls `password_changed` after every save of a new password, which is where the hash is kept."""

    def __init__(self, remember: int = 5):
        self.remember = remember

    def _recent(self, user) -> list[str]:
        from .models import PasswordHistory

        return list(PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)[: self.remember])

    def validate(self, password, user=None):
        from django.contrib.auth.hashers import check_password

        if user is None or user.pk is None:
            return
        hashes = self._recent(user)
        if user.password and user.password not in hashes:
            hashes = [user.password, *hashes][: self.remember]
        if any(check_password(password, h) for h in hashes if h):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def password_changed(self, password, user=None):
        from .models import PasswordHistory

        if user is None or user.pk is None or not user.password:
            return
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        keep = PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[: self.remember]
        PasswordHistory.objects.filter(user_id=user.pk).exclude(pk__in=list(keep)).delete()

    def get_help_text(self):
        return _("Your password cannot be one of your last %(n)d passwords.") % {"n": self.remember}
