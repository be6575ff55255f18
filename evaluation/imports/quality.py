"""Data-quality checks of an upload, beside the 1.5× change flags: warnings with their reason,
shown in the preview and kept with the upload. They never refuse a legal file.

All over the parsed rows in memory (last year's rows come from the diff's one query), no query
per row:

- internal consistency: full-time teachers far above the posts (more than 120 % and 3 more);
  students per full-time teacher outside 3–40 (schools of 50 students or more); more teaching
  computers than twice the students; books per student above 300 or equipment per student above
  100,000 yuan. SchoolYear holds no registered-children column (registered children are the
  township sheet's, where "attending ≤ registered" is already an error), so students are not
  compared with them.
- copied figures: a school's row identical to its last year's (every figure the file gives,
  at least four); several schools with identical rows.
- round-number heaping: in a count column, the share of values (10 or more) ending in 0 far
  above the 10 % expected (at least 20 values, 30 % or more, and more than 3 standard deviations
  above); likewise "00" against 1 % for values of 100 or more (15 % or more).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import columns as c
from .records import RowChange
from .validation import ParsedSheet

MIN_COPIED = 4  # figures a row must give for "identical" to mean something
HEAP_MIN_VALUES = 20


@dataclass
class QualityWarning:
    check: str  # consistency / copied_last_year / identical_rows / heaping
    sheet: str
    row: int | None  # None: about the whole file
    subject: str
    township: str
    reason: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _n(v):
    return None if v is None or isinstance(v, bool | str) else float(v)


def _consistency(sheet: ParsedSheet, rows: list[RowChange]) -> list[QualityWarning]:
    out = []
    headers = {col.key: col.header for col in sheet.spec.columns}

    def warn(ch, reason):
        out.append(QualityWarning("consistency", sheet.name, ch.row, ch.subject, ch.township_code, reason))

    for ch in rows:
        v = ch.values
        students, teachers, posts = _n(v.get("students")), _n(v.get("teachers")), _n(v.get("teacher_posts"))
        if teachers is not None and posts is not None and teachers > posts * 1.2 and teachers - posts >= 3:
            warn(ch, _("%(teachers)s %(t)g is far above %(posts)s %(p)g.") % {"teachers": headers["teachers"], "t": teachers, "posts": headers["teacher_posts"], "p": posts})
        if students is not None and students >= 50 and teachers:
            ratio = students / teachers
            if ratio > 40 or ratio < 3:
                warn(ch, _("%(ratio).1f students per full-time teacher is implausible for a school of %(students)g students.") % {"ratio": ratio, "students": students})
        computers = _n(v.get("computers"))
        if computers is not None and students and computers > 2 * students:
            warn(ch, _("%(n)g teaching computers for %(students)g students is implausible.") % {"n": computers, "students": students})
        books, equipment = _n(v.get("books_per_student")), _n(v.get("equipment_value_per_student"))
        if books is not None and books > 300:
            warn(ch, _("%(header)s %(v)g is implausible.") % {"header": headers["books_per_student"], "v": books})
        if equipment is not None and equipment > 100_000:
            warn(ch, _("%(header)s %(v)g is implausible.") % {"header": headers["equipment_value_per_student"], "v": equipment})
    return out


def _figures(keys: list[str], values: dict) -> tuple:
    return tuple((k, v) for k in keys if (v := values.get(k)) is not None)


def _copied(sheet: ParsedSheet, rows: list[RowChange], previous: dict) -> list[QualityWarning]:
    out = []
    groups: dict[tuple, list[RowChange]] = {}
    value_keys = sheet.spec.value_keys  # a property: computed once, not per row
    keys = [col.key for col in sheet.present if col.key in value_keys]
    for ch in rows:
        figures = _figures(keys, ch.values)
        if len(figures) < MIN_COPIED:
            continue
        groups.setdefault(figures, []).append(ch)
        last = previous.get(ch.key)
        # Decimal, int and bool compare by value across types (Decimal("31.50") == 31.5 ...).
        if last is not None and all(last.get(k) == v for k, v in figures):
            out.append(QualityWarning("copied_last_year", sheet.name, ch.row, ch.subject, ch.township_code,
                               _("Every figure equals last year's: copied from last year's report?")))
    for same in groups.values():
        if len(same) > 1:
            for ch in same:
                others = "、".join(f"{o.subject}（{_('row')} {o.row}）" for o in same if o is not ch)
                out.append(QualityWarning("identical_rows", sheet.name, ch.row, ch.subject, ch.township_code,
                                   _("Every figure equals that of %(others)s.") % {"others": others}))
    return out


def _excess(k: int, n: int, p: float) -> float:
    return (k - n * p) / math.sqrt(n * p * (1 - p))


def _heaping(sheet: ParsedSheet, rows: list[RowChange]) -> list[QualityWarning]:
    out = []
    value_keys = sheet.spec.value_keys
    for col in sheet.present:
        if col.key not in value_keys or col.kind != c.INT:
            continue
        values = [int(v) for ch in rows if (v := ch.values.get(col.key)) is not None and not isinstance(v, bool)]
        tens = [v for v in values if v >= 10]
        hundreds = [v for v in values if v >= 100]
        k0 = sum(1 for v in tens if v % 10 == 0)
        k00 = sum(1 for v in hundreds if v % 100 == 0)
        if len(hundreds) >= HEAP_MIN_VALUES and k00 / len(hundreds) >= 0.15 and _excess(k00, len(hundreds), 0.01) > 3:
            share = k00 / len(hundreds)
            out.append(QualityWarning("heaping", sheet.name, None, col.header, "", _(
                "%(share).0f%% of the values of “%(header)s” end in 00 (about 1%% expected): estimated rather than counted?"
            ) % {"share": share * 100, "header": col.header}))
        elif len(tens) >= HEAP_MIN_VALUES and k0 / len(tens) >= 0.3 and _excess(k0, len(tens), 0.1) > 3:
            share = k0 / len(tens)
            out.append(QualityWarning("heaping", sheet.name, None, col.header, "", _(
                "%(share).0f%% of the values of “%(header)s” end in 0 (about 10%% expected): estimated rather than counted?"
            ) % {"share": share * 100, "header": col.header}))
    return out


def school_year_warnings(sheet: ParsedSheet, rows: list[RowChange], previous: dict) -> list[QualityWarning]:
    """`rows`: the file's valid rows; `previous`: last year's stored rows by this year's key."""
    if not rows:
        return []
    return [*_heaping(sheet, rows), *_consistency(sheet, rows), *_copied(sheet, rows, previous)]


CHECKS = {c.SCHOOL_YEARS.kind: school_year_warnings}
