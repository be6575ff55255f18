"""Tables of the dashboards and township pages, for XLSX and PDF alike: one definition of each
table, so an export shows exactly what the page shows.

Cells are data: numbers stay numbers (a share is a fraction shown with the "0.0%" format, a score
"0.0"), counts and shares sit in columns of their own, a missing figure is an empty cell — never
text like "18 (62.1%)" nobody can sort or sum. The PDF writes the same cells through the same
formats (`Table.display_rows`), and may fold a count and its share into one column to fit a page."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from evaluation.figures import point_format
from evaluation.imports.workbook import escape_formula
from evaluation.vocabulary import Verdict

PCT, SCORE, INT = "0.0%", "0.0", "0"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list]
    formats: list[str | None] = field(default_factory=list)  # an Excel number format per column
    # The PDF's narrower view (a count and its share in one column), if it differs.
    pdf_headers: list[str] | None = None
    pdf_rows: list[list] | None = None
    # A format per row for the numbers of rows that each have their own (observation points).
    row_formats: list[str] | None = None
    note: str = ""  # a line the PDF prints under the table

    def format_of(self, i: int) -> str | None:
        return self.formats[i] if i < len(self.formats) else None

    @property
    def display_rows(self) -> list[list[str]]:
        if self.pdf_rows is not None:
            return [[display(c, None) for c in row] for row in self.pdf_rows]
        return [[display(c, self.cell_format(r, i, c)) for i, c in enumerate(row)] for r, row in enumerate(self.rows)]

    def cell_format(self, r: int, i: int, value) -> str | None:
        if self.row_formats is not None and isinstance(value, float):
            return self.row_formats[r]
        return self.format_of(i)

    @property
    def display_headers(self) -> list[str]:
        return self.pdf_headers or self.headers


def display(value, fmt: str | None) -> str:
    """A cell as the PDF (and a reader) sees it, through its Excel number format."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if fmt and fmt.endswith("%"):
        decimals = len(fmt.split(".")[1]) - 1 if "." in fmt else 0
        return f"{value * 100:.{decimals}f}%"
    fmt = fmt.replace("#,##", "") if fmt else fmt
    if fmt and fmt[0] == "0":
        decimals = len(fmt.split(".")[1]) if "." in fmt else 0
        return f"{value:,.{decimals}f}"
    return str(value)


def school_year(period: int | None) -> str:
    """A school year as the pages write it: 2024–2025学年 (nothing before any result exists)."""
    return "" if period is None else f"{period}–{period + 1}{_('school year')}"


def _share(share) -> float | None:
    return None if share is None else round(float(share), 4)


def _pct(share) -> str:
    return display(share, PCT)


def verdict_label(verdict: str | None) -> str:
    return str(Verdict(verdict).label) if verdict in Verdict.values else "—"


def _area_table(title: str, rows: list, names: list[str]) -> Table:
    """Areas × targets: for each target the count attaining it and its share, in two columns."""
    headers = [_("code"), _("area"), _("Townships")]
    formats = [None, None, INT]
    for name in names:
        headers += [f"{name} · {_('count attaining')}", f"{name} · {_('share attaining')}"]
        formats += [INT, PCT]
    data = [[r.code, r.name, r.townships, *(v for _n, a, s in r.cells for v in (a, _share(s)))] for r in rows]
    return Table(
        title=title, headers=headers, rows=data, formats=formats,
        pdf_headers=[_("code"), _("area"), _("Townships"), *names],
        pdf_rows=[[r.code, r.name, r.townships, *(f"{a} ({_pct(s)})" for _n, a, s in r.cells)] for r in rows],
    )


def area_tables(ctx: dict, filters) -> list[Table]:
    target_names = [f"{_('Target')} {n} {name}" for n, name in ctx["targets"]]
    names = [*target_names, _("all seven")]
    tables = []
    if ctx["children"]:
        tables.append(_area_table(_("Attainment by area"), ctx["children"], names))
    tables.append(_area_table(_("Total"), [ctx["total"]], names))
    if ctx.get("townships") is not None:
        tables.append(Table(
            title=_("Townships"),
            headers=[_("code"), _("township"), _("pilot batch"), *target_names, _("targets attained"), _("all seven"), _("score")],
            rows=[[t.code, t.name, t.pilot, *(verdict_label(t.targets.get(n)) for n, _n in ctx["targets"]),
                   t.attained, _("yes") if t.all_seven else _("no"), None if t.score is None else float(t.score)] for t in ctx["townships"]],
            formats=[None, None, None, *([None] * len(target_names)), INT, None, SCORE],
        ))
    if ctx.get("ranking"):
        tables.append(Table(
            title=_("Ranking"), headers=[_("rank"), _("code"), _("area"), _("Townships"), _("all seven"), _("share")],
            rows=[[i, r.code, r.name, r.townships, r.attained.get(0, 0), _share(r.share(0))] for i, r in enumerate(ctx["ranking"], 1)],
            formats=[INT, None, None, INT, INT, PCT],
            note=_("An area with very few townships (a development zone with one, say) reaches 100% or 0% with a single township: read its rank with its count beside it."),
        ))
    tables.append(Table(
        title=_("Trend"), headers=[_("school year"), *names],
        rows=[[school_year(t["period"]), *(_share(s) for s in t["shares"])] for t in ctx["trend"]],
        formats=[None, *([PCT] * len(names))],
    ))
    return tables


def area_data(ctx: dict, filters) -> Table:
    """One row per area, school year and target — a sheet to pivot: the same counts as the
    tables above, long rather than wide, with the trend's school years."""
    names = dict(ctx["targets"])
    rows = []
    for r in [*ctx["children"], ctx["total"]]:
        for n, a, s in r.cells:
            rows.append([school_year(filters.period), filters.period, r.code, r.name, n, names.get(n, _("all seven")) if n else _("all seven"),
                         r.townships, a, _share(s)])
    # A county's own 乡镇, one row each per target: 1 of 1 when it attains it, 0 of 1 when not.
    for t in ctx.get("townships") or []:
        for n, _name in ctx["targets"]:
            verdict = t.targets.get(n)
            if verdict is not None:
                attained = int(verdict == Verdict.ATTAINED)
                rows.append([school_year(filters.period), filters.period, t.code, t.name, n, names.get(n), 1, attained, float(attained)])
    for t in ctx["trend"]:
        for n, s in zip([*(n for n, _name in ctx["targets"]), 0], t["shares"], strict=True):
            if t["period"] != filters.period:
                rows.append([school_year(t["period"]), t["period"], ctx["total"].code, ctx["total"].name, n,
                             names.get(n, _("all seven")) if n else _("all seven"), None, None, _share(s)])
    return Table(
        title=_("Data"),
        headers=[_("school year"), _("year"), _("code"), _("area"), _("target"), _("name"), _("Townships"), _("attained"), _("share")],
        rows=rows, formats=[None, INT, None, None, INT, None, INT, INT, PCT],
    )


def township_tables(ctx: dict) -> list[Table]:
    def num(v):
        return None if v is None else float(v)

    results = ctx["results"]
    point_rows = []
    for r in results:
        fmt = point_format(r.point)
        point_rows.append([r.point.code, r.point.name, r.stage_label, fmt.scaled(r.value), fmt.scaled(r.reference), fmt.scaled(r.gap),
                           fmt.unit_label, verdict_label(r.verdict), fmt.scaled(r.previous_value), fmt.scaled(r.change)])
    points = Table(
        title=_("Observation points"),
        headers=[_("point"), _("name"), _("stage"), _("value"), _("urban reference"), _("gap"), _("unit of measure"), _("verdict"), _("last year"), _("change")],
        rows=point_rows, row_formats=[point_format(r.point).excel for r in results],
    )
    tables = [points, Table(
        title=_("Targets"), headers=[_("target"), _("name"), _("verdict"), _("score")],
        rows=[[n, ctx["target_names"].get(n, ""), verdict_label(t.verdict), num(t.score)] for n, t in sorted(ctx["targets"].items())],
        formats=[INT, None, None, SCORE],
    )]
    if ctx["judgments"]:
        tables.append(Table(
            title=_("Inspectors' judgments"), headers=[_("point"), _("name"), _("level"), _("comment"), _("evidence")],
            rows=[[j.point.code, j.point.name, verdict_label(j.level), j.comment, len(j.evidence.all())] for j in ctx["judgments"]],
            formats=[None, None, None, None, INT],
        ))
    tables.append(Table(
        title=_("Schools"), headers=[_("school code"), _("school"), _("stage"), _("seat school"), _("students"), _("full-time teachers"), _("data uploaded")],
        rows=[[s.code, s.name, s.get_stage_display(), _("yes") if s.is_seat else "", s.students, s.teachers,
               _("yes") if s.facts_id else _("no")] for s in ctx["schools"]],
        formats=[None, None, None, None, INT, INT, None],
    ))
    if ctx.get("items"):
        tables.append(Table(
            title=_("Rectification items"), headers=[_("Evaluation round"), _("problem"), _("deadline"), _("status")],
            rows=[[i.round.name, i.problem, i.due_on.isoformat() if i.due_on else None,
                   str(i.get_status_display()) + (f" · {i.get_escalation_display()}" if i.escalation else "")] for i in ctx["items"]],
        ))
    return tables


def _width(value, fmt: str | None) -> int:
    text = display(value, fmt) if value is not None else ""
    # A CJK character takes about two columns of a Latin one.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def workbook(tables: list[Table], *, title: str) -> bytes:
    """An XLSX with one sheet per table: a title row, a frozen bold header, numbers with their
    formats, columns as wide as their content. Text is escaped so nothing is read as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    header_fill = PatternFill("solid", fgColor="DDE6EE")
    for i, table in enumerate(tables):
        ws = wb.create_sheet(title=f"{i + 1} {table.title}"[:31].replace("/", "-"))
        ws.append([escape_formula(title)])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append([escape_formula(h) for h in table.headers])
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [min(max(_width(h, None), 6), 30) for h in table.headers]
        for r, row in enumerate(table.rows):
            ws.append([escape_formula(v) for v in row])
            for c, value in enumerate(row):
                fmt = table.cell_format(r, c, value)
                if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.cell(row=r + 3, column=c + 1).number_format = fmt
                widths[c] = max(widths[c], min(_width(value, fmt), 60))
        for c, width in enumerate(widths):
            ws.column_dimensions[get_column_letter(c + 1)].width = width + 2
        ws.freeze_panes = "C3" if len(table.headers) > 4 else "A3"
        if table.rows:
            ws.auto_filter.ref = f"A2:{get_column_letter(len(table.headers))}{len(table.rows) + 2}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
