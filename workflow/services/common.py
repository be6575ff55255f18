"""What every workflow service shares: the refusal, who may act where, private files."""
from __future__ import annotations

from django.utils.translation import gettext as _

from townships.jurisdiction import resolve_jurisdiction
from townships.models import Role


class WorkflowRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotInArea(WorkflowRefused):
    """Outside the user's area: pages and the API answer "not found", as for a missing object."""


def require_area(user, code: str) -> None:
    if not resolve_jurisdiction(user).covers(code):
        raise NotInArea(_("Not found in your area."))


def require_role(user, *roles: str, message: str) -> None:
    if not (user.is_superuser and Role.PROVINCE_STAFF in roles) and user.role not in roles:
        raise WorkflowRefused(message)


def store_private_file(*, data: bytes, file_name: str, folder: str) -> dict:
    from core.private_files import FileRefused
    from core.private_files import store_private_file as store

    try:
        return store(data=data, file_name=file_name, folder=folder)
    except FileRefused as e:
        raise WorkflowRefused(e.message) from None
