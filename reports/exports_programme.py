"""Issue 19's tables for the XLSX and PDF exports — value-added (增值性评价), the help relations
counted — in the same `Table` form as the pages' other tables (`reports.exports`)."""
from __future__ import annotations

from django.utils.translation import gettext as _

from evaluation.figures import point_format

from .exports import INT, Table

VA_NOTE = ("Value-added: the actual value minus the value expected from the unit's own last year (a province-wide line over seat "
           "schools of the stage, weighted by students). Significant only when the 95% range excludes zero. A school-level estimate: "
           "there is no pupil data.")


def _va_rows(rows, first_columns) -> tuple[list[list], list[str]]:
    data, formats = [], []
    for r in rows:
        fmt = point_format(r.point_obj)
        data.append([*first_columns(r), fmt.scaled(r.previous), fmt.scaled(r.expected), fmt.scaled(r.actual), fmt.scaled(r.value_added),
                     fmt.scaled(r.lower), fmt.scaled(r.upper), fmt.unit_label, str(r.verdict_label), r.students, r.schools_fitted])
        formats.append(fmt.excel)
    return data, formats


VA_HEADERS = ["last year", "expected", "actual", "value-added", "95% range from", "95% range to", "unit of measure", "reading", "students",
              "schools in the fit"]


def township_value_added_tables(ctx: dict) -> list[Table]:
    va = ctx.get("value_added") or {}
    if not va.get("rows"):
        return []
    tables = []
    for title, rows, first, heads in (
        (_("Value-added"), va["rows"], lambda r: [r.point_obj.code, r.point_obj.name, r.stage_label], [_("point"), _("name"), _("stage")]),
        (_("Value-added of schools"), va["schools"], lambda r: [r.school_code, r.point_obj.code, r.point_obj.name, r.stage_label],
         [_("school code"), _("point"), _("name"), _("stage")]),
    ):
        if not rows:
            continue
        data, formats = _va_rows(rows, first)
        tables.append(Table(title=title, headers=[*heads, *(_(h) for h in VA_HEADERS)], rows=data, row_formats=formats, note=_(VA_NOTE)))
    return tables


def area_programme_tables(ctx: dict) -> list[Table]:
    tables = []
    choice = ctx.get("va_choice")
    if choice is not None and choice.point is not None and ctx.get("va_ranking"):
        data, formats = _va_rows(ctx["va_ranking"], lambda r: [r.rank, r.division_code, r.name])
        title = _("Value-added ranking · %(point)s") % {"point": f"{choice.point.code} {choice.point.name}"}
        tables.append(Table(title=title, headers=[_("rank"), _("code"), _("township"), *(_(h) for h in VA_HEADERS)], rows=data,
                            row_formats=formats, note=_(VA_NOTE)))
        fmt = point_format(choice.point)
        tables.append(Table(
            title=_("Helped seat schools against the others"), headers=[_("group"), _("schools"), _("mean value-added"), _("significantly above expected")],
            rows=[[_("helped this year") if g["group"] == "helped" else _("not helped"), g["schools"], fmt.scaled(g["mean"]), g["above"]]
                  for g in ctx.get("helped_comparison") or []],
            formats=[None, INT, fmt.excel, INT],
        ))
    help_counts = ctx.get("help_counts") or {}
    if help_counts.get("rows"):
        tables.append(Table(
            title=_("Help relations"), headers=[_("code"), _("area"), *help_counts["kinds"], _("total")],
            rows=[[r["code"], r["name"], *r["counts"], r["total"]] for r in help_counts["rows"]],
            formats=[None, None, *([INT] * (len(help_counts["kinds"]) + 1))],
        ))
    return tables
