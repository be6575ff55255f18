"""What every workflow service shares: the refusal, who may act where, private files."""
from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
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
    """Check a document by its content (photo, PDF, Office) and size, store it under its hash
    outside the web root, and return the fields of a StoredFile."""
    from evaluation.services.forms import sniff_evidence

    limit = getattr(settings, "EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    if not data:
        raise WorkflowRefused(_("The file is empty."))
    if len(data) > limit:
        raise WorkflowRefused(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)})
    kind = sniff_evidence(data)
    if kind is None:
        raise WorkflowRefused(_("Evidence must be a photo (JPEG, PNG), a PDF or an Office document (Word, Excel, PowerPoint)."))
    content_type, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{folder}/{digest[:2]}/{digest}{ext}"
    path = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return {"file_name": Path(file_name).name[:255], "content_type": content_type, "size": len(data), "sha256": digest, "stored_as": relative}
