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
