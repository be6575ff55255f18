"""Files users upload (inspectors' evidence, rectification evidence, plans, cases, the originals of
data uploads): kept outside the web root under their content hash, never under the name the user
gave (that is only shown). Documents are checked by their content and size first; upload
originals are checked by the import pipeline, which reads them."""
from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _


class FileRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


EVIDENCE_TYPES = {
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"%PDF-": ("application/pdf", ".pdf"),
}
OFFICE_PARTS = {"word/": (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                "xl/": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                "ppt/": (".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")}


def sniff_evidence(data: bytes) -> tuple[str, str] | None:
    for magic, kind in EVIDENCE_TYPES.items():
        if data.startswith(magic):
            return kind
    if data.startswith(b"PK\x03\x04"):
        import io
        import zipfile

        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, (ext, ctype) in OFFICE_PARTS.items():
                if any(n.startswith(prefix) for n in names):
                    return ctype, ext
    return None


def keep_bytes(*, data: bytes, folder: str, suffix: str) -> tuple[str, str]:
    """Store `data` under its SHA-256 in `folder` (written to a temporary name and renamed, so a
    reader never sees half a file) and return (relative path, digest)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{folder}/{digest[:2]}/{digest}{suffix}"
    path = private_path(relative)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return relative, digest


def private_path(relative: str) -> Path:
    """Where a stored file is on disk (for a view that streams it after checking access)."""
    return Path(settings.PRIVATE_MEDIA_ROOT) / relative


def read_bytes(relative: str) -> bytes:
    return private_path(relative).read_bytes()


def store_private_file(*, data: bytes, file_name: str, folder: str) -> dict:
    """Check a document (photo, PDF, Office) by content and size, store it under its hash and
    return the fields a stored-file row keeps."""
    limit = getattr(settings, "EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > limit:
        raise FileRefused(_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)})
    kind = sniff_evidence(data)
    if kind is None:
        raise FileRefused(_("Evidence must be a photo (JPEG, PNG), a PDF or an Office document (Word, Excel, PowerPoint)."))
    content_type, ext = kind
    relative, digest = keep_bytes(data=data, folder=folder, suffix=ext)
    return {"file_name": Path(file_name).name[:255], "content_type": content_type, "size": len(data), "sha256": digest, "stored_as": relative}
