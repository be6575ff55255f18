"""Raw sheets → typed records and every error at once, with row number, header, value, message."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import methodcaller

from django.utils.translation import gettext as _

from core.spreadsheets import RawSheet

from . import columns as c
from .parsing import FORMULA_PREFIXES, PARSERS, CellError, describe, is_blank, normalise_header

HEADER_SCAN_ROWS = 20


@dataclass
class RowError:
    sheet: str
    row: int | None
    header: str
    value: str
    message: str

    def text(self) -> str:
        if not self.sheet:  # the file as a whole
            return self.message
        if self.row is None:
            return _("Sheet “%(sheet)s”: %(message)s") % {"sheet": self.sheet, "message": self.message}
        if self.header:
            text = _("Row %(row)d “%(header)s”: %(message)s, got “%(value)s”") % {
                "row": self.row,
                "header": self.header,
                "message": self.message,
                "value": self.value,
            }
        else:
            text = _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}
        return f"「{self.sheet}」{text}"

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "header": self.header, "value": self.value, "message": self.message, "text": self.text()}


@dataclass
class ParsedSheet:
    spec: c.SheetSpec
    name: str
    present: list[c.Column] = field(default_factory=list)  # columns found in the file
    records: list[dict] = field(default_factory=list)  # each with "_row"
    invalid_rows: set[int] = field(default_factory=set)
    errors: list[RowError] = field(default_factory=list)

    def error(self, row, column: c.Column | None, value, message) -> None:
        self.errors.append(RowError(self.name, row, column.header if column else "", describe(value) if column else "", str(message)))
        if row is not None:
            self.invalid_rows.add(row)


def _header_index() -> dict[str, dict[str, c.Column]]:
    index = {}
    for spec in c.SPECS:
        names = {}
        for col in spec.columns:
            for name in (col.header, *col.aliases):
                names[normalise_header(name)] = col
        index[spec.kind] = names
    return index


HEADERS = _header_index()


def find_header(sheet: RawSheet) -> tuple[c.SheetSpec, int, dict[int, c.Column]] | None:
    """The spec and header row that best match the top of the sheet (title rows above are skipped)."""
    best = None
    for row_idx, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        normalised = [normalise_header(v) for v in row]
        for spec in c.SPECS:
            names = HEADERS[spec.kind]
            matched = {i: names[h] for i, h in enumerate(normalised) if h in names}
            keys_found = sum(1 for col in matched.values() if col.key in spec.key)
            score = (keys_found == len(spec.key), len(matched))
            if len(matched) >= 2 and (best is None or score > best[0]):
                best = (score, spec, row_idx, matched)
    if best is None:
        return None
    _score, spec, row_idx, matched = best
    # A sheet named like a spec wins when its headers fit it equally well.
    return spec, row_idx, matched


def _fast_float(col: c.Column):
    """The conversion of a plain float cell (what calamine gives for numbers) for number kinds,
    or None when the kind has no fast path. Anything unusual falls through to the full parser."""
    limit = col.max_value if col.max_value is not None else float("inf")
    if col.kind in (c.INT, c.PERIOD):
        low, high = (2015, 2099) if col.kind == c.PERIOD else (0, limit)
        return lambda v: int(v) if low <= v <= high and v.is_integer() else None
    if col.kind == c.DECIMAL:
        return lambda v: Decimal(f"{v:.2f}") if 0 <= v <= limit else None
    if col.kind == c.RATE:
        return lambda v: Decimal(f"{v:.4f}") if 0 <= v <= 1 else None
    return None


# Exact strings of the choice kinds, as the template's drop-downs write them.
FAST_WORDS = {
    c.BOOL: {"是": True, "否": False},
    c.GRADE: {"优": "excellent", "良": "good", "合格": "pass", "不合格": "fail"},
    c.STAGE: {"幼儿园": "kindergarten", "小学": "primary", "初中": "junior", "九年一贯制": "nine_year"},
}
_MISS = object()


def _cell_parser(col: c.Column):
    """value → (typed value, error message or None) for one cell of `col`."""
    parser, required = PARSERS[col.kind], col.required
    fast = _fast_float(col)
    words = FAST_WORDS.get(col.kind, {})
    code_len = {c.CODE10: 10, c.CODE9: 9}.get(col.kind)

    def parse(value):
        cls = value.__class__
        if cls is float and fast is not None:
            converted = fast(value)
            if converted is not None:
                return converted, None
        elif cls is str:
            if words:
                hit = words.get(value, _MISS)
                if hit is not _MISS:
                    return hit, None
            elif code_len and len(value) == code_len and value.isascii() and value.isdigit():
                return value, None
        if value is None or value == "" or (cls is str and not value.strip()):
            return None, (_("is required") if required else None)
        try:
            return parser(value, col), None
        except CellError as e:
            return None, e

    return parse


def _float_column(col: c.Column):
    """For a column whose cells are all floats: distinct values → typed values, converting them all
    at C speed, or None when some value needs the cell-by-cell path (out of range, a fraction in
    a whole-number column, NaN). Gives what _fast_float gives cell by cell."""
    limit = float(col.max_value) if col.max_value is not None else float("inf")
    if col.kind in (c.INT, c.PERIOD):
        low, high = (2015.0, 2099.0) if col.kind == c.PERIOD else (0.0, limit)
        whole, convert = True, int
    elif col.kind == c.DECIMAL:
        low, high, whole = 0.0, limit, False
        convert = lambda values: map(Decimal, map("%.2f".__mod__, values))  # noqa: E731
    elif col.kind == c.RATE:
        low, high, whole = 0.0, 1.0, False
        convert = lambda values: map(Decimal, map("%.4f".__mod__, values))  # noqa: E731
    else:
        return None

    def typed(distinct: set) -> dict | None:
        # NaN fails both comparisons, so it takes the slow path and gets its error there.
        if not (all(map(low.__le__, distinct)) and all(map(high.__ge__, distinct))):
            return None
        if whole:
            if not all(map(float.is_integer, distinct)):
                return None
            return dict(zip(distinct, map(int, distinct), strict=True))
        return dict(zip(distinct, convert(distinct), strict=True))

    return typed


def _plain_strings(col: c.Column, distinct: set[str]) -> bool:
    """Whether every distinct text of the column is its own typed value, tested at C speed: codes
    of the right number of ASCII digits, or text without surrounding space, not blank, at most
    100 characters and not starting like a formula — what `_cell_parser` gives back unchanged.
    A column of 30,000 codes or school names then costs no call per cell."""
    if col.kind in (c.CODE10, c.CODE9):
        digits = 10 if col.kind == c.CODE10 else 9
        return set(map(len, distinct)) == {digits} and all(map(str.isascii, distinct)) and all(map(str.isdigit, distinct))
    if col.kind == c.TEXT:
        texts = list(distinct)
        return ("" not in distinct and list(map(str.strip, texts)) == texts and max(map(len, texts)) <= 100
                and not any(map(methodcaller("startswith", FORMULA_PREFIXES), texts)))
    return False


# Cells of these classes are parsed once per distinct value. bool is left out on purpose: True == 1
# == 1.0 would share one entry although the parsers treat a bool cell differently.
_SHARED_CLASSES = frozenset({float, int, str, type(None)})


def _parse_column(parsed: ParsedSheet, col: c.Column, cells, row_numbers: list[int]) -> list:
    """The column's typed values in row order; errors are recorded in row order.

    A column holds few distinct values (是/否, grades, small counts), so each distinct value is
    parsed once and the column is mapped through the results at C speed."""
    classes = set(map(type, cells))
    if classes == {float}:
        floats = _float_column(col)
        values = floats(set(cells)) if floats is not None else None
        if values is not None:
            return list(map(values.__getitem__, cells))
    elif classes == {str} and _plain_strings(col, set(cells)):
        return list(cells)
    parse = _cell_parser(col)
    if classes <= _SHARED_CLASSES:
        values, bad = {}, {}
        for value in dict.fromkeys(cells):
            values[value], message = parse(value)
            if message is not None:
                bad[value] = message
        if bad:
            for row, value in zip(row_numbers, cells, strict=True):
                if value in bad:
                    parsed.error(row, col, "" if is_blank(value) else value, bad[value])
        return list(map(values.__getitem__, cells))
    out = []
    for row, value in zip(row_numbers, cells, strict=True):
        typed, message = parse(value)
        if message is not None:
            parsed.error(row, col, "" if is_blank(value) else value, message)
        out.append(typed)
    return out


def parse_sheet(sheet: RawSheet) -> ParsedSheet | None:
    """None for sheets that hold no data table (an instructions sheet, an empty sheet)."""
    found = find_header(sheet)
    if found is None:
        return None
    spec, header_idx, matched = found
    parsed = ParsedSheet(spec=spec, name=sheet.name)
    header_row = header_idx + 1
    seen: dict[str, int] = {}
    for idx, col in sorted(matched.items()):
        if col.key in seen:
            parsed.error(header_row, None, None, _("the column “%(header)s” appears twice") % {"header": col.header})
            continue
        seen[col.key] = idx
    for col in spec.columns:
        if col.required and col.key not in seen:
            parsed.errors.append(RowError(sheet.name, None, col.header, "", _("the required column “%(header)s” is missing") % {"header": col.header}))
    if parsed.errors:
        return parsed
    parsed.present = [col for col in spec.columns if col.key in seen]
    body = sheet.rows[header_idx + 1 :]
    # Column-wise: one pass per column over its cells, then one record per non-blank row.
    width = max((len(r) for r in body), default=0)
    if any(len(r) != width for r in body):
        body = [r + [None] * (width - len(r)) for r in body]
    transposed = list(zip(*body, strict=True)) if body else []
    columns = {col.key: (transposed[seen[col.key]] if seen[col.key] < width else (None,) * len(body)) for col in parsed.present}
    # Blank and phantom rows: only rows whose first column is blank can be blank throughout.
    first = columns[parsed.present[0].key]
    maybe_blank = [i for i, v in enumerate(first) if v is None or (v.__class__ is str and not v.strip())]
    blank = {i for i in maybe_blank if all(is_blank(columns[k][i]) for k in columns)}
    keep = [i for i in range(len(body)) if i not in blank] if blank else range(len(body))
    row_numbers = [header_idx + 2 + i for i in keep]
    typed = {}
    for col in parsed.present:
        cells = columns[col.key]
        typed[col.key] = _parse_column(parsed, col, cells if not blank else [cells[i] for i in keep], row_numbers)
    for smaller, larger, message in c.ROW_CHECKS.get(spec.kind, ()):
        if smaller in typed and larger in typed:
            for row, a, b in zip(row_numbers, typed[smaller], typed[larger], strict=True):
                if a is not None and b is not None and a > b:
                    parsed.error(row, spec.column(smaller), a, message)
    keys = ("_row", *typed)
    # One C-level pass: no Python frame per row.
    records = list(map(dict, map(zip, repeat(keys), zip(row_numbers, *typed.values(), strict=True))))
    parsed.records = records
    if not parsed.records and not parsed.errors:
        parsed.errors.append(RowError(sheet.name, None, "", "", _("the sheet has a header but no data rows")))
    return parsed
