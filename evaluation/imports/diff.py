"""Diff: the file's valid rows against the stored rows — new, changed or unchanged, which cells
changed, and which changes are implausible against last year's value (flags).

One generic row differ (`diff_sheet`) serves every sheet; a `SheetDiff` says per kind of sheet
how its rows are checked (scope.py) and which stored rows they are compared with. Reads, never
writes; the RowChanges it keeps are what the commit writes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from evaluation.models import HelpRelation, SchoolYear, TownshipYear
from townships.models import School

from . import columns as c
from .quality import CHECKS as QUALITY_CHECKS
from .records import Flag, RowChange, SheetOutcome
from .scope import Context, check_help, check_school_years, check_schools, check_township_years, duplicates
from .validation import ParsedSheet


@dataclass
class Stored:
    """The stored rows a sheet's rows are compared with: column key → value, by the rows' keys."""

    existing: dict[tuple, dict] = field(default_factory=dict)  # this year's row of the same key
    previous: dict[tuple, dict] = field(default_factory=dict)  # last year's row, by this year's key


@dataclass(frozen=True)
class SheetDiff:
    """How one kind of sheet is diffed."""

    # The reference checks: errors on the sheet, a RowChange for each valid row.
    check: Callable[[ParsedSheet, Context], list[RowChange]]
    # The stored rows for those (never called without rows).
    stored: Callable[[list[RowChange], ParsedSheet, Context], Stored]


def diff_sheet(sheet: ParsedSheet, ctx: Context, how: SheetDiff) -> SheetOutcome:
    outcome = SheetOutcome(parsed=sheet)
    duplicates(sheet)
    rows = how.check(sheet, ctx)
    stored = how.stored(rows, sheet, ctx) if rows else Stored()
    # Before the comparison, which fills changed rows' missing columns from the stored row.
    quality = QUALITY_CHECKS.get(sheet.spec.kind)
    if quality is not None:
        outcome.warnings = [w.as_dict() for w in quality(sheet, rows, stored.previous)]
    _compare(sheet, outcome, rows, stored)
    return outcome


def _display(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _same(old, new) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return old is not None and new is not None and Decimal(old) == Decimal(new)
    if old == "" and new is None or old is None and new == "":
        return True
    return old == new


def _implausible(old, new, factor: float) -> bool:
    if old is None or new is None:
        return False
    old_f, new_f = float(old), float(new)
    if old_f <= 0:
        return new_f > 0 and old_f == 0 and new_f >= 10 * factor  # 0 → many
    ratio = new_f / old_f
    return ratio > factor or ratio < 1 / factor


def _compare(sheet: ParsedSheet, outcome: SheetOutcome, rows: list[RowChange], stored: Stored) -> None:
    """new / changed / unchanged, changed cells, implausible flags."""
    value_cols = [col for col in sheet.present if col.key in sheet.spec.value_keys]
    flag_cols = [col for col in value_cols if col.implausible]
    factor = float(getattr(settings, "IMPORT_IMPLAUSIBLE_FACTOR", 1.5))
    keys = [col.key for col in value_cols]
    existing, previous = stored.existing, stored.previous
    for ch in rows:
        record = ch.values
        old = existing.get(ch.key)
        if old is None:
            outcome.new.append(ch)
        # One tuple comparison per row; cell by cell only for rows that differ. Text columns are
        # stored as "" for blank, parsed as None.
        elif tuple(None if old.get(k) == "" else old.get(k) for k in keys) == tuple(record.get(k) for k in keys):
            outcome.unchanged += 1
            continue
        else:
            changed_cells = [
                [ch.subject, col.header, _display(old.get(col.key)), _display(record.get(col.key))]
                for col in value_cols
                if not _same(old.get(col.key), record.get(col.key))
            ]
            if not changed_cells:  # equal after all (e.g. 12.50 vs 12.5)
                outcome.unchanged += 1
                continue
            # Columns the file does not have keep their stored values, so the row can be written whole.
            for k in sheet.spec.value_keys:
                if k not in record:
                    record[k] = None if old.get(k) == "" else old.get(k)
            outcome.changed.append(ch)
            outcome.cell_changes.extend(changed_cells)
        last = previous.get(ch.key)
        if last is not None:
            for col in flag_cols:
                if _implausible(last.get(col.key), record.get(col.key), factor):
                    outcome.flags.append(
                        Flag(
                            id=f"{sheet.spec.kind}:{':'.join(str(k) for k in ch.key)}:{col.key}",
                            sheet=sheet.name,
                            row=ch.row,
                            subject=ch.subject,
                            township=ch.township_code,
                            period=ch.period or 0,
                            field=col.key,
                            header=col.header,
                            previous=_display(last.get(col.key)),
                            value=_display(record.get(col.key)),
                        )
                    )


# ---------------------------------------------------------------------------------------------
# Stored rows per kind of sheet


def _stored_schools(rows: list[RowChange], sheet: ParsedSheet, ctx: Context) -> Stored:
    qs = ctx.jurisdiction.filter(School.objects.all(), "township").values_list(
        "code", "name", "stage", "township_id", "is_seat", "is_urban", "is_urban_quality"
    )
    return Stored(
        existing={
            (code,): {"name": name, "stage": stage, "township_code": town, "is_seat": seat, "is_urban": urban, "is_urban_quality": quality}
            for code, name, stage, town, seat, urban, quality in qs
        }
    )


def _this_and_last_year(qs, unit_field: str, fields: list[str], keys: set, code_of: Callable | None) -> Stored:
    """Stored rows for the file's (unit, period) keys, and the rows of the year before them.
    Tuples, not dicts, from the database: this reads every stored row of the area for the
    periods. `code_of` turns the stored unit (a school id) into the file's code; None when the
    unit is the code already."""
    stored = Stored()
    existing, previous = stored.existing, stored.previous
    for unit, period, *values in qs.values_list(unit_field, "period", *fields).iterator(chunk_size=5000):
        code = unit if code_of is None else code_of(unit)
        if (code, period) in keys or (code, period + 1) in keys:
            row = dict(zip(fields, values, strict=True))
            if (code, period) in keys:
                existing[(code, period)] = row
            if (code, period + 1) in keys:
                previous[(code, period + 1)] = row
    return stored


def _periods_and_before(rows: list[RowChange]) -> set[int]:
    periods = {ch.period for ch in rows}
    return periods | {p - 1 for p in periods}


def _stored_school_years(rows: list[RowChange], sheet: ParsedSheet, ctx: Context) -> Stored:
    id_to_code = {v[0]: code for code, v in ctx.schools.items()}
    qs = ctx.jurisdiction.filter(SchoolYear.objects.filter(period__in=_periods_and_before(rows)), "township")
    return _this_and_last_year(qs, "school_id", sorted(sheet.spec.value_keys), {ch.key for ch in rows}, id_to_code.get)


def _stored_township_years(rows: list[RowChange], sheet: ParsedSheet, ctx: Context) -> Stored:
    qs = ctx.jurisdiction.filter(TownshipYear.objects.filter(period__in=_periods_and_before(rows)), "township")
    return _this_and_last_year(qs, "township_id", sorted(sheet.spec.value_keys), {ch.key for ch in rows}, None)


def _stored_help(rows: list[RowChange], sheet: ParsedSheet, ctx: Context) -> Stored:
    # A help relation has no values besides its key: it is there or it is not. Only relations
    # between schools the file names can match one of its keys, so the file's own ids suffice to
    # turn stored ids back into codes.
    id_to_code = {ch.helper_id: ch.values["helper_code"] for ch in rows} | {ch.helped_id: ch.values["helped_code"] for ch in rows}
    id_to_code.pop(None, None)  # schools this upload creates have no stored relations
    qs = ctx.jurisdiction.filter(HelpRelation.objects.all(), "township").values_list("helper_id", "helped_id", "kind", "period")
    return Stored(
        existing={(id_to_code.get(helper_id), id_to_code.get(helped_id), kind, period): {} for helper_id, helped_id, kind, period in qs}
    )


DIFFS = {
    c.SCHOOLS.kind: SheetDiff(check=check_schools, stored=_stored_schools),
    c.SCHOOL_YEARS.kind: SheetDiff(check=check_school_years, stored=_stored_school_years),
    c.TOWNSHIP_YEARS.kind: SheetDiff(check=check_township_years, stored=_stored_township_years),
    c.HELP_RELATIONS.kind: SheetDiff(check=check_help, stored=_stored_help),
}
