"""The entry points of an upload — what views, the API, tasks and the command line call.

store_upload keeps the original and opens the history row (ImportRun); preview_import runs the
checks (pipeline.py) and writes only the history row, never domain data, and queues nothing;
commit_import commits a previewed upload from its kept original (commit.py), re-checked against
the data as it is then; import_file does both in one step. The stages live in their modules:
read (reading.py) → parse (validation.py, parsing.py) → scope and references (scope.py) → diff
(diff.py) → commit (commit.py, writing.py, upsert.py), with the records of records.py between them.
"""
from __future__ import annotations

from pathlib import Path

from core.private_files import keep_bytes, read_bytes
from evaluation.models import ImportRun, ImportStatus
from townships.jurisdiction import Jurisdiction

from .commit import commit_data, commit_kept
from .pipeline import collector_paused, evaluate, record_outcome
from .records import Flag, ImportRefused, Outcome, RowChange, SheetOutcome

__all__ = [
    "Flag",
    "ImportRefused",
    "Outcome",
    "RowChange",
    "SheetOutcome",
    "commit_import",
    "import_file",
    "preview_import",
    "store_upload",
    "stored_bytes",
]


def store_upload(*, user, jurisdiction: Jurisdiction, data: bytes, file_name: str, channel: str) -> ImportRun:
    """Keep the original file (named by its hash, never by the user's file name) and open a history row."""
    relative, digest = keep_bytes(data=data, folder="imports", suffix=".bin")
    return ImportRun.objects.create(
        uploaded_by=user,
        scope_code="" if jurisdiction.everything else (user.unit_id or ""),
        channel=channel,
        file_name=Path(file_name).name[:255] or "upload",
        sha256=digest,
        size=len(data),
        stored_as=relative,
    )


def stored_bytes(run: ImportRun) -> bytes:
    return read_bytes(run.stored_as)


def preview_import(*, run: ImportRun, jurisdiction: Jurisdiction) -> ImportRun:
    run.status = ImportStatus.RUNNING
    run.progress = 10
    run.save(update_fields=["status", "progress"])
    with collector_paused():
        outcome = evaluate(stored_bytes(run), jurisdiction, run=run)
        record_outcome(run, outcome)
    run.status = ImportStatus.INVALID if outcome.errors else ImportStatus.PREVIEWED
    run.progress = 100
    run.save()
    return run


def commit_import(*, run: ImportRun, user, jurisdiction: Jurisdiction, confirmations: dict[str, str] | None = None) -> ImportRun:
    """Commit a previewed upload from its kept file, re-checked against the data as it is now.

    Raises ImportRefused when anything is wrong; then no domain data was written (the history row
    records why).
    """
    return commit_kept(run=run, user=user, jurisdiction=jurisdiction, confirmations=confirmations)


def import_file(
    *,
    user,
    jurisdiction: Jurisdiction,
    data: bytes,
    file_name: str,
    channel: str,
    dry_run: bool,
    confirmations: dict[str, str] | None = None,
    confirm_all: str | None = None,
) -> ImportRun:
    """One step for the command line, the API and forms: check once, and commit unless it is a dry
    run, the file has errors (status invalid) or implausible changes lack a reason (status
    previewed); run.message says why it was not committed."""
    run = store_upload(user=user, jurisdiction=jurisdiction, data=data, file_name=file_name, channel=channel)
    if dry_run:
        return preview_import(run=run, jurisdiction=jurisdiction)
    # The bytes in hand are the kept ones: no need to read them back.
    return commit_data(run=run, data=data, user=user, jurisdiction=jurisdiction, confirmations=confirmations, confirm_all=confirm_all)
