from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from townships.jurisdiction import is_staff_role
from townships.models import CODE_LENGTH, ROLE_UNIT_LEVEL, Division, Role, User


def validate_role_unit(*, role: str, unit: Division | None) -> None:
    """A staff role's unit must be of the role's level; an inspector needs an organising unit."""
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))
    if unit is None:
        raise ValidationError(_("Every portal account needs a unit."))
    level = ROLE_UNIT_LEVEL.get(role)
    if level and len(unit.code) != CODE_LENGTH[level]:
        raise ValidationError(
            _("A %(role)s account must belong to a %(level)s, not to %(unit)s.")
            % {"role": Role(role).label, "level": level.label, "unit": unit}
        )


@transaction.atomic
def upsert_portal_user(*, username: str, role: str, unit_code: str, password: str | None = None) -> User:
    unit = Division.objects.get(code=unit_code)
    validate_role_unit(role=role, unit=unit)
    user, _created = User.objects.get_or_create(username=username)
    user.role = role
    user.unit = unit
    # Admin access follows the role, so it cannot drift from what the jurisdiction grants.
    user.is_staff = is_staff_role(role)
    if password is not None:
        user.set_password(password)
    user.save()
    return user
