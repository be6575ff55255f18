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
from collections import Counter
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter, is_, itemgetter

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


def _numbers(values) -> list:
    """`_n` of each value, computed once per distinct value: a column holds few (counts, figures).
    True equals 1 as a key, so a column holding a bool takes the value-by-value path."""
    if bool in set(map(type, values)):
        return list(map(_n, values))
    return list(map({v: _n(v) for v in set(values)}.__getitem__, values))


def _consistency(sheet: ParsedSheet, rows: list[RowChange], columns: dict[str, tuple]) -> list[QualityWarning]:
    out = []
    headers = {col.key: col.header for col in sheet.spec.columns}

    def warn(ch, reason):
        out.append(QualityWarning("consistency", sheet.name, ch.row, ch.subject, ch.township_code, reason))

    # Column-wise: each figure converted once per distinct value, the rows only compared.
    figures = [_numbers(columns[k] if k in columns else [ch.values.get(k) for ch in rows])
               for k in ("students", "teachers", "teacher_posts", "computers", "books_per_student", "equipment_value_per_student")]
    for ch, students, teachers, posts, computers, books, equipment in zip(rows, *figures, strict=True):
        if teachers is not None and posts is not None and teachers > posts * 1.2 and teachers - posts >= 3:
            warn(ch, _("%(teachers)s %(t)g is far above %(posts)s %(p)g.") % {"teachers": headers["teachers"], "t": teachers, "posts": headers["teacher_posts"], "p": posts})
        if students is not None and students >= 50 and teachers:
            ratio = students / teachers
            if ratio > 40 or ratio < 3:
                warn(ch, _("%(ratio).1f students per full-time teacher is implausible for a school of %(students)g students.") % {"ratio": ratio, "students": students})
        if computers is not None and students and computers > 2 * students:
            warn(ch, _("%(n)g teaching computers for %(students)g students is implausible.") % {"n": computers, "students": students})
        if books is not None and books > 300:
            warn(ch, _("%(header)s %(v)g is implausible.") % {"header": headers["books_per_student"], "v": books})
        if equipment is not None and equipment > 100_000:
            warn(ch, _("%(header)s %(v)g is implausible.") % {"header": headers["equipment_value_per_student"], "v": equipment})
    return out


def _copied(sheet: ParsedSheet, rows: list[RowChange], present: list[c.Column], figures: list[tuple], previous: dict) -> list[QualityWarning]:
    out = []
    keys = [col.key for col in present]
    if len(keys) < MIN_COPIED:
        return out
    # Equal tuples of figures (None where blank) are rows giving the same figures in the same
    # columns. Rows are counted by a cheap key first (their whole numbers, which hash fast), in C;
    # only the few that share one are grouped by the whole tuple (Decimals hash slowly).
    whole = [i for i, col in enumerate(present) if col.kind == c.INT]
    cheap = list(map(itemgetter(*whole), figures)) if len(whole) > 1 else figures
    counts = Counter(cheap)
    shared = {k for k, n in counts.items() if n > 1} if len(counts) < len(cheap) else set()
    width, nones = len(keys), (None,) * len(keys)

    def enough(row: tuple) -> bool:
        # Blanks counted by identity: `count(None)` compares each Decimal with None the slow way.
        return width - sum(map(is_, row, nones)) >= MIN_COPIED

    if previous:
        for ch, row in zip(rows, figures, strict=True):
            last = previous.get(ch.key)
            # Decimal, int and bool compare by value across types (Decimal("31.50") == 31.5 ...).
            if last is not None and enough(row) and all(last.get(k) == v for k, v in zip(keys, row, strict=True) if v is not None):
                out.append(QualityWarning("copied_last_year", sheet.name, ch.row, ch.subject, ch.township_code,
                                   _("Every figure equals last year's: copied from last year's report?")))
    groups: dict[tuple, list[int]] = {}
    for i in compress(range(len(rows)), map(shared.__contains__, cheap)) if shared else ():
        if enough(figures[i]):
            groups.setdefault(figures[i], []).append(i)
    # Rows taken in order: the groups come in the order of their first rows, members in row order.
    for indices in (g for g in groups.values() if len(g) > 1):
        same = [rows[i] for i in indices]
        for ch in same:
            others = "、".join(f"{o.subject}（{_('row')} {o.row}）" for o in same if o is not ch)
            out.append(QualityWarning("identical_rows", sheet.name, ch.row, ch.subject, ch.township_code,
                               _("Every figure equals that of %(others)s.") % {"others": others}))
    return out


def _excess(k: int, n: int, p: float) -> float:
    return (k - n * p) / math.sqrt(n * p * (1 - p))


def _heaping(sheet: ParsedSheet, present: list[c.Column], columns: dict[str, tuple]) -> list[QualityWarning]:
    out = []
    for col in present:
        if col.kind != c.INT:
            continue
        # Counted per distinct value (counts repeat a lot). A bool is no count, and as a key it
        # equals 1: a column holding one leaves them out first.
        values = columns[col.key]
        counts = Counter(values if bool not in set(map(type, values)) else [v for v in values if not isinstance(v, bool)])
        counts.pop(None, None)
        tens = hundreds = k0 = k00 = 0
        for v, n in counts.items():
            v = int(v)
            if v >= 10:
                tens += n
                if v % 10 == 0:
                    k0 += n
                if v >= 100:
                    hundreds += n
                    if v % 100 == 0:
                        k00 += n
        if hundreds >= HEAP_MIN_VALUES and k00 / hundreds >= 0.15 and _excess(k00, hundreds, 0.01) > 3:
            share = k00 / hundreds
            out.append(QualityWarning("heaping", sheet.name, None, col.header, "", _(
                "%(share).0f%% of the values of “%(header)s” end in 00 (about 1%% expected): estimated rather than counted?"
            ) % {"share": share * 100, "header": col.header}))
        elif tens >= HEAP_MIN_VALUES and k0 / tens >= 0.3 and _excess(k0, tens, 0.1) > 3:
            share = k0 / tens
            out.append(QualityWarning("heaping", sheet.name, None, col.header, "", _(
                "%(share).0f%% of the values of “%(header)s” end in 0 (about 10%% expected): estimated rather than counted?"
            ) % {"share": share * 100, "header": col.header}))
    return out


def school_year_warnings(sheet: ParsedSheet, rows: list[RowChange], previous: dict) -> list[QualityWarning]:
    """`rows`: the file's valid rows; `previous`: last year's stored rows by this year's key."""
    if not rows:
        return []
    value_keys = sheet.spec.value_keys  # a property: computed once
    present = [col for col in sheet.present if col.key in value_keys]
    keys = [col.key for col in present]
    # Every row's figures as one tuple (one C call per row), and the columns they make.
    if len(keys) > 1:
        try:
            figures = list(map(itemgetter(*keys), map(attrgetter("values"), rows)))
        except KeyError:  # a record without some column: blank there
            figures = [tuple(map(ch.values.get, keys)) for ch in rows]
    else:
        figures = [tuple(map(ch.values.get, keys)) for ch in rows]
    columns = dict(zip(keys, zip(*figures, strict=True), strict=True))
    return [*_heaping(sheet, present, columns), *_consistency(sheet, rows, columns), *_copied(sheet, rows, present, figures, previous)]


CHECKS = {c.SCHOOL_YEARS.kind: school_year_warnings}
