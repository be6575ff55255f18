"""The typed records passed between the stages of an upload, and the refusal the entry points raise.

read (reading.RawSheet) → parse (validation.ParsedSheet, records as dicts with "_row") →
check scope and references (RowChange, one per valid row) → diff (SheetOutcome: the RowChanges that
are new or changed, cell changes, flags) → commit (the writers read RowChange).

This module imports nothing of the pipeline but the parsed sheet, so every stage can import it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .validation import ParsedSheet, RowError


class ImportRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(slots=True, eq=False)
class RowChange:
    """A valid row of the file, placed by the reference checks (scope.py).

    The diff keeps the rows that are new or changed; for a changed row it fills `values` for the
    columns the file lacks from the stored row, so the writers can write the row whole.
    """

    row: int  # row number in the file, for error messages
    key: tuple  # the sheet's natural key (codes, help kind, period), as the diff matches stored rows
    values: dict  # the parsed record: column key → typed value
    township_code: str  # the 乡镇 the row belongs to: locks, flags and the roll-up go by it
    period: int | None  # the school year; None on the schools sheet
    subject: str  # how the row is named in the list of changes and in flags
    # Resolved references. None while the school is created by this same upload: the writer
    # looks the id up once the schools sheet is written.
    school_id: int | None = None  # school-year rows
    helper_id: int | None = None  # help relations
    helped_id: int | None = None


@dataclass
class Flag:
    """An implausible change against last year's value; committing it needs a reason."""

    id: str
    sheet: str
    row: int
    subject: str
    township: str
    period: int
    field: str
    header: str
    previous: str
    value: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class SheetOutcome:
    parsed: ParsedSheet
    new: list[RowChange] = field(default_factory=list)
    changed: list[RowChange] = field(default_factory=list)
    unchanged: int = 0
    cell_changes: list[list] = field(default_factory=list)  # [subject, header, old, new]
    flags: list[Flag] = field(default_factory=list)
    # Data-quality warnings (quality.py), as dicts: shown and kept, never refusing the file.
    warnings: list[dict] = field(default_factory=list)

    def added_rows(self, limit: int | None = None) -> list[list]:
        """The new rows as the preview lists them: [sheet, subject, the row's values] — a help
        relation too, whose key is all it has. `limit`: only the first that many (the preview
        keeps the first 2,000; formatting all 30,000 of a first upload cost a sixth of it)."""
        headers = {col.key: col.header for col in self.parsed.present}
        # Translated once, not per yes/no cell (120,000 lookups for a 30,000-row first upload).
        words = {True: str(_("yes")), False: str(_("no"))}
        out = []
        for ch in self.new if limit is None else self.new[:limit]:
            shown = [f"{headers[k]}：{words[v] if isinstance(v, bool) else v}" for k, v in ch.values.items() if k in headers and v not in (None, "")]
            out.append([self.parsed.spec.title, ch.subject, "；".join(shown)])
        return out

    def counts(self) -> dict:
        return {
            "sheet": self.parsed.name,
            "kind": self.parsed.spec.kind,
            "title": self.parsed.spec.title,
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "invalid": len(self.parsed.invalid_rows),
        }


@dataclass
class Outcome:
    sheets: list[SheetOutcome]
    errors: list[RowError]

    @property
    def flags(self) -> list[Flag]:
        return [f for s in self.sheets for f in s.flags]

    @property
    def warnings(self) -> list[dict]:
        return [w for s in self.sheets for w in s.warnings]
