"""Tables of the dashboards and township pages, for the screen, XLSX and PDF alike: one
definition of each table, so an export shows exactly what the page shows."""
from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

from evaluation.imports.workbook import escape_formula
from evaluation.vocabulary import Verdict


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list]


def _pct(share) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def verdict_label(verdict: str | None) -> str:
    return str(Verdict(verdict).label) if verdict in Verdict.values else "—"


def area_tables(ctx: dict, filters) -> list[Table]:
    target_names = [f"{_('Target')} {n} {name}" for n, name in ctx["targets"]]
    tables = []
    if ctx["children"]:
        tables.append(Table(
            title=_("Attainment by area"),
            headers=[_("code"), _("area"), _("townships"), *target_names, _("all seven")],
            rows=[[r.code, r.name, r.townships, *(f"{a} ({_pct(s)})" for _, a, s in r.cells)] for r in ctx["children"]],
        ))
    total = ctx["total"]
    tables.append(Table(
        title=_("Total"), headers=[_("code"), _("area"), _("townships"), *target_names, _("all seven")],
        rows=[[total.code, total.name, total.townships, *(f"{a} ({_pct(s)})" for _, a, s in total.cells)]],
    ))
    if ctx.get("townships") is not None:
        tables.append(Table(
            title=_("Townships"),
            headers=[_("code"), _("township"), _("pilot batch"), *target_names, _("targets attained"), _("all seven")],
            rows=[[t.code, t.name, t.pilot, *(verdict_label(t.targets.get(n)) for n, _n in ctx["targets"]),
                   "—" if t.attained is None else t.attained, _("yes") if t.all_seven else _("no")] for t in ctx["townships"]],
        ))
    if ctx.get("ranking"):
        tables.append(Table(
            title=_("Ranking"), headers=[_("rank"), _("code"), _("area"), _("townships"), _("all seven"), _("share")],
            rows=[[i, r.code, r.name, r.townships, r.attained.get(0, 0), _pct(r.share(0))] for i, r in enumerate(ctx["ranking"], 1)],
        ))
    tables.append(Table(
        title=_("Trend"), headers=[_("school year"), *target_names, _("all seven")],
        rows=[[t["period"], *(_pct(s) for s in t["shares"])] for t in ctx["trend"]],
    ))
    return tables


def township_tables(ctx: dict) -> list[Table]:
    def num(v):
        return "" if v is None else round(float(v), 4)

    tables = [Table(
        title=_("Observation points"),
        headers=[_("point"), _("name"), _("stage"), _("value"), _("urban reference"), _("gap"), _("verdict"), _("last year"), _("change")],
        rows=[[r.point.code, r.point.name, r.stage_label, num(r.value), num(r.reference), num(r.gap), verdict_label(r.verdict),
               num(r.previous_value), num(r.change)] for r in ctx["results"]],
    ), Table(
        title=_("Targets"), headers=[_("target"), _("name"), _("verdict"), _("score")],
        rows=[[n, ctx["target_names"].get(n, ""), verdict_label(t.verdict), num(t.score)] for n, t in sorted(ctx["targets"].items())],
    )]
    if ctx["judgments"]:
        tables.append(Table(
            title=_("Inspectors' judgments"), headers=[_("point"), _("name"), _("level"), _("comment"), _("evidence")],
            rows=[[j.point.code, j.point.name, verdict_label(j.level), j.comment, len(j.evidence.all())] for j in ctx["judgments"]],
        ))
    tables.append(Table(
        title=_("Schools"), headers=[_("school code"), _("school"), _("stage"), _("seat school"), _("students"), _("full-time teachers"), _("data uploaded")],
        rows=[[s.code, s.name, s.get_stage_display(), _("yes") if s.is_seat else "", s.students, s.teachers,
               _("yes") if s.facts_id else _("no")] for s in ctx["schools"]],
    ))
    return tables


def workbook(tables: list[Table], *, title: str) -> bytes:
    """An XLSX with one sheet per table. Text is escaped so nothing is read as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for i, table in enumerate(tables):
        ws = wb.create_sheet(title=f"{i + 1} {table.title}"[:31].replace("/", "-"))
        ws.append([escape_formula(title)])
        ws.append([escape_formula(h) for h in table.headers])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            ws.append([escape_formula(v) for v in row])
        ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
