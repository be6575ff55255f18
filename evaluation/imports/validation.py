"""Raw sheets → typed records and every error at once, with row number, header, value, message."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from . import columns as c
from .parsing import PARSERS, CellError, describe, is_blank, normalise_header
from .reading import RawSheet

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


def _parse_column(parsed: ParsedSheet, col: c.Column, cells: list, records: list[dict]) -> None:
    key, parser, required = col.key, PARSERS[col.kind], col.required
    fast = _fast_float(col)
    words = FAST_WORDS.get(col.kind, {})
    for value, record in zip(cells, records):
        cls = value.__class__
        if cls is float and fast is not None:
            converted = fast(value)
            if converted is not None:
                record[key] = converted
                continue
        elif cls is str and words:
            hit = words.get(value, _MISS)
            if hit is not _MISS:
                record[key] = hit
                continue
        if value is None or value == "" or (value.__class__ is str and not value.strip()):
            if required:
                parsed.error(record["_row"], col, "", _("is required"))
            record[key] = None
            continue
        try:
            record[key] = parser(value, col)
        except CellError as e:
            record[key] = None
            parsed.error(record["_row"], col, value, e)


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
    # Column-wise: one tight loop per column over its cells; a record per non-blank row.
    width = max((len(r) for r in body), default=0)
    if any(len(r) != width for r in body):
        body = [r + [None] * (width - len(r)) for r in body]
    transposed = list(zip(*body)) if body else []
    columns = {col.key: (transposed[seen[col.key]] if seen[col.key] < width else [None] * len(body)) for col in parsed.present}
    keep = [i for i in range(len(body)) if not all(is_blank(columns[k][i]) for k in columns)]  # blank and phantom rows
    records = [{"_row": header_idx + 2 + i} for i in keep]
    everything = len(keep) == len(body)
    for col in parsed.present:
        cells = columns[col.key]
        _parse_column(parsed, col, cells if everything else [cells[i] for i in keep], records)
    for smaller, larger, message in c.ROW_CHECKS.get(spec.kind, ()):
        if smaller in columns and larger in columns:
            for record in records:
                a, b = record[smaller], record[larger]
                if a is not None and b is not None and a > b:
                    parsed.error(record["_row"], spec.column(smaller), a, message)
    parsed.records = records
    if not parsed.records and not parsed.errors:
        parsed.errors.append(RowError(sheet.name, None, "", "", _("the sheet has a header but no data rows")))
    return parsed
