"""One pass of a file through the stages that only read: read → parse → validate scope and
references → diff, giving an Outcome (what would change, every error, every flag).

Preview and commit both run it — commit again from the kept original, against the data as it is
by then — so what is written is always what was just checked. Writes nothing but the progress of
the history row.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils.translation import gettext as _

from core.spreadsheets import FileRefused, read_workbook
from evaluation.models import ImportRun, ImportStatus
from townships.jurisdiction import Jurisdiction

from . import columns as c
from .collected import refuse_collected
from .diff import DIFFS, diff_sheet
from .records import Outcome
from .scope import Context, refuse_locked
from .validation import ParsedSheet, RowError, parse_sheet

# Schools first: the yearly rows and help relations may name a school the same file creates, and
# the commit writes the sheets in this order too.
SHEET_ORDER = [c.SCHOOLS.kind, c.SCHOOL_YEARS.kind, c.TOWNSHIP_YEARS.kind, c.HELP_RELATIONS.kind]
MAX_SHOWN_CHANGES = 2000

_pauses = 0
_pauses_lock = threading.Lock()
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while an upload is checked and written. A
    30,000-row file makes a few million objects (cells, records, rows to COPY), none of them in a
    cycle, and the collector traversed them all over and over: 637 collections, 0.36–0.46 s of a
    2–3 s first upload, for nothing to collect (reference counting frees them all the same; the
    peak memory is unchanged). Pauses nest across threads; the last one to end restores the
    collector as the first found it."""
    global _pauses, _was_enabled
    with _pauses_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pauses_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def evaluate(data: bytes, jurisdiction: Jurisdiction, run: ImportRun | None) -> Outcome:
    """`run`, when given, gets its progress saved between the stages (a preview the user watches)."""
    try:
        raw_sheets = read_workbook(data)
    except FileRefused as e:
        return Outcome(sheets=[], errors=[RowError("", None, "", "", str(e))])
    parsed = [p for p in (parse_sheet(s) for s in raw_sheets) if p is not None]
    if not parsed:
        return Outcome(
            sheets=[],
            errors=[RowError("", None, "", "", _("No sheet has the template's headers (for example “学校标识码” and “学年”)."))],
        )
    by_kind: dict[str, ParsedSheet] = {}
    errors: list[RowError] = []
    for p in parsed:
        errors.extend(p.errors)
        if p.spec.kind in by_kind:
            errors.append(RowError(p.name, None, "", "", _("a second sheet of the same kind; put all rows in one sheet")))
        by_kind.setdefault(p.spec.kind, p)
    if run is not None:
        run.progress = 40
        run.save(update_fields=["progress"])
    ctx = Context(jurisdiction)
    outcomes = []
    for kind in SHEET_ORDER:
        sheet = by_kind.get(kind)
        # A sheet whose headers are wrong has no rows to check further.
        if sheet is not None and not any(e.row is None for e in sheet.errors):
            before = len(sheet.errors)
            outcome = diff_sheet(sheet, ctx, DIFFS[kind])
            refuse_locked(outcome)
            refuse_collected(outcome)
            errors.extend(sheet.errors[before:])
            outcomes.append(outcome)
    return Outcome(sheets=outcomes, errors=errors)


def record_outcome(run: ImportRun, outcome: Outcome) -> None:
    """The outcome on the history row (not saved here)."""
    run.summary = {"sheets": [s.counts() for s in outcome.sheets]}
    run.errors = [e.as_dict() for e in outcome.errors]
    run.flags = [f.as_dict() for f in outcome.flags]
    run.warnings = outcome.warnings
    run.warning_count = len(run.warnings)
    if run.status != ImportStatus.COMMITTED:
        # The preview shows the first changed cells; the commit records all of them.
        added: list[list] = []
        for s in outcome.sheets:
            added += s.added_rows(limit=MAX_SHOWN_CHANGES - len(added))
        run.changes = {
            "changed": [cell for s in outcome.sheets for cell in s.cell_changes][:MAX_SHOWN_CHANGES],
            "added": added,
        }
