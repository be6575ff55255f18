"""Writes of a committed upload: set-based upserts keyed by (unit, period), safe to run twice.

Each writer turns the diff's RowChanges into tuples in column order for bulk_upsert (upsert.py):
new rows take the COPY fast path, changed ones the upsert. Rows are written whole: a new row's
columns missing from the file are empty; a changed row's missing columns were filled from the
stored row by the diff, so a file with a few columns never blanks the others.
"""
from __future__ import annotations

from operator import itemgetter

from django.db.models import CharField

from evaluation.models import HelpRelation, ImportRun, SchoolYear, TownshipYear
from townships.models import School

from . import columns as c
from .records import RowChange
from .upsert import bulk_upsert


def _fields(spec: c.SheetSpec, present: list[c.Column] | None) -> list[str]:
    keys = spec.value_keys
    cols = spec.columns if present is None else present
    return [col.key for col in cols if col.key in keys]


def _blank_text(model, rows: list[RowChange], fields: list[str]) -> None:
    """Text columns are NOT NULL in Django's convention: store "" for a blank cell."""
    for f in fields:
        if isinstance(model._meta.get_field(f), CharField):
            for ch in rows:
                if ch.values.get(f) is None:
                    ch.values[f] = ""


def upsert_schools(*, new: list[RowChange], changed: list[RowChange], present: list[c.Column], run: ImportRun) -> None:
    names = [f for f in _fields(c.SCHOOLS, None) if f != "township_code"]
    # A school list an officer uploads is real data, whatever the demo generator made before.
    columns = ["code", "township_id", *names, "is_demo"]

    def data(rows):
        return [(ch.values["school_code"], ch.township_code, *(ch.values.get(f) for f in names), False) for ch in rows]

    bulk_upsert(model=School, conflict=["code"], columns=columns, rows=data(changed), new_rows=data(new), touch=None)


def _fill_school_ids(rows: list[RowChange], *refs: tuple[str, str]) -> None:
    """Schools created by this same upload got their ids just now. `refs`: (RowChange attribute,
    column holding that school's code) pairs."""
    codes = {ch.values[code] for ch in rows for attr, code in refs if getattr(ch, attr) is None}
    if not codes:
        return
    ids = dict(School.objects.filter(code__in=codes).values_list("code", "id"))
    for ch in rows:
        for attr, code in refs:
            if getattr(ch, attr) is None:
                setattr(ch, attr, ids[ch.values[code]])


# New rows lack the file's absent columns: those are None.
EMPTY = {col.key: None for spec in c.SPECS for col in spec.columns}


def upsert_school_years(*, new: list[RowChange], changed: list[RowChange], present: list[c.Column], run: ImportRun) -> None:
    rows = new + changed
    _fill_school_ids(rows, ("school_id", "school_code"))
    fields = _fields(c.SCHOOL_YEARS, None)
    _blank_text(SchoolYear, rows, fields)
    get, run_id = itemgetter(*fields), run.pk

    def data(changes):
        out = []
        for ch in changes:
            try:  # one C call for the thirty values of a row that has them all
                values = get(ch.values)
            except KeyError:
                values = get({**EMPTY, **ch.values})
            out.append((ch.school_id, ch.period, ch.township_code, run_id, *values))
        return out

    bulk_upsert(
        model=SchoolYear,
        conflict=["school_id", "period"],
        columns=["school_id", "period", "township_id", "updated_by_import_id", *fields],
        rows=data(changed),
        new_rows=data(new),
    )


def upsert_township_years(*, new: list[RowChange], changed: list[RowChange], present: list[c.Column], run: ImportRun) -> None:
    fields = _fields(c.TOWNSHIP_YEARS, None)
    _blank_text(TownshipYear, new + changed, fields)

    def data(rows):
        return [(ch.township_code, ch.period, run.pk, *(ch.values.get(f) for f in fields)) for ch in rows]

    bulk_upsert(
        model=TownshipYear,
        conflict=["township_id", "period"],
        columns=["township_id", "period", "updated_by_import_id", *fields],
        rows=data(changed),
        new_rows=data(new),
    )


def upsert_help(*, new: list[RowChange], changed: list[RowChange], present: list[c.Column], run: ImportRun) -> None:
    _fill_school_ids(new + changed, ("helper_id", "helper_code"), ("helped_id", "helped_code"))

    def data(rows):
        return [(ch.helper_id, ch.helped_id, ch.values["kind"], ch.period, ch.township_code, run.pk) for ch in rows]

    bulk_upsert(
        model=HelpRelation,
        conflict=["helper_id", "helped_id", "kind", "period"],
        columns=["helper_id", "helped_id", "kind", "period", "township_id", "updated_by_import_id"],
        rows=data(changed),
        new_rows=data(new),
        touch=None,
    )


WRITERS = {
    c.SCHOOLS.kind: upsert_schools,
    c.SCHOOL_YEARS.kind: upsert_school_years,
    c.TOWNSHIP_YEARS.kind: upsert_township_years,
    c.HELP_RELATIONS.kind: upsert_help,
}
