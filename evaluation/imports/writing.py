"""Writes of a committed upload: set-based upserts keyed by (unit, period), safe to run twice.

Rows are written whole: a new row's columns missing from the file are empty; a changed row's
missing columns were filled from the stored row by the diff, so a file with a few columns never
blanks the others.
"""
from __future__ import annotations

from operator import itemgetter

from django.db.models import CharField

from evaluation.models import HelpRelation, ImportRun, SchoolYear, TownshipYear
from townships.models import School

from . import columns as c
from .upsert import bulk_upsert


def _fields(spec: c.SheetSpec, present: list[c.Column] | None) -> list[str]:
    keys = spec.value_keys
    cols = spec.columns if present is None else present
    return [col.key for col in cols if col.key in keys]


def _blank_text(model, rows: list[dict], fields: list[str]) -> None:
    """Text columns are NOT NULL in Django's convention: store "" for a blank cell."""
    for f in fields:
        if isinstance(model._meta.get_field(f), CharField):
            for r in rows:
                if r.get(f) is None:
                    r[f] = ""


def upsert_schools(*, new: list[dict], changed: list[dict], present: list[c.Column], run: ImportRun) -> None:
    names = [f for f in _fields(c.SCHOOLS, None) if f != "township_code"]
    # A school list an officer uploads is real data, whatever the demo generator made before.
    columns = ["code", "township_id", *names, "is_demo"]

    def data(rows):
        return [(r["school_code"], r["township_code"], *(r.get(f) for f in names), False) for r in rows]

    bulk_upsert(model=School, conflict=["code"], columns=columns, rows=data(changed), new_rows=data(new), touch=None)


def _school_ids(rows: list[dict], *attrs: tuple[str, str]) -> None:
    # Schools created by this same upload got their ids just now.
    codes = {r[code] for r in rows for attr, code in attrs if r.get(attr) is None}
    if not codes:
        return
    ids = dict(School.objects.filter(code__in=codes).values_list("code", "id"))
    for r in rows:
        for attr, code in attrs:
            if r.get(attr) is None:
                r[attr] = ids[r[code]]


def _tuple(get, record: dict) -> tuple:
    # New rows lack the file's absent columns: fill them with None first.
    try:
        return get(record)
    except KeyError:
        return get({**EMPTY, **record})


EMPTY = {col.key: None for spec in c.SPECS for col in spec.columns}


def upsert_school_years(*, new: list[dict], changed: list[dict], present: list[c.Column], run: ImportRun) -> None:
    _school_ids(new + changed, ("_school_id", "school_code"))
    fields = _fields(c.SCHOOL_YEARS, None)
    _blank_text(SchoolYear, new + changed, fields)
    get = itemgetter("_school_id", "period", "_township", *fields)

    def data(rows):
        return [(*row[:3], run.pk, *row[3:]) for row in map(lambda r: _tuple(get, r), rows)]

    bulk_upsert(
        model=SchoolYear,
        conflict=["school_id", "period"],
        columns=["school_id", "period", "township_id", "updated_by_import_id", *fields],
        rows=data(changed),
        new_rows=data(new),
    )


def upsert_township_years(*, new: list[dict], changed: list[dict], present: list[c.Column], run: ImportRun) -> None:
    fields = _fields(c.TOWNSHIP_YEARS, None)
    _blank_text(TownshipYear, new + changed, fields)

    def data(rows):
        return [(r["township_code"], r["period"], run.pk, *(r.get(f) for f in fields)) for r in rows]

    bulk_upsert(
        model=TownshipYear,
        conflict=["township_id", "period"],
        columns=["township_id", "period", "updated_by_import_id", *fields],
        rows=data(changed),
        new_rows=data(new),
    )


def upsert_help(*, new: list[dict], changed: list[dict], present: list[c.Column], run: ImportRun) -> None:
    _school_ids(new + changed, ("_helper_id", "helper_code"), ("_helped_id", "helped_code"))

    def data(rows):
        return [(r["_helper_id"], r["_helped_id"], r["kind"], r["period"], r["_township"], run.pk) for r in rows]

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
