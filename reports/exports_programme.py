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


def group_labels() -> dict[str, str]:
    return {"pilots": _("pilots"), "same_counties": _("non-pilots of the same counties"), "matched": _("matched non-pilots")}


def comparison_rows(c) -> list[dict]:
    """A batch's table, year by year: each group's shares, then the difference-in-differences
    against each comparison group (percentage points)."""
    labels = group_labels()
    rows = []
    for p in c.years:
        for g in ("pilots", "same_counties", "matched"):
            gy = c.groups[g][p]
            rows.append({"period": p, "group": g, "label": labels[g], "townships": gy.townships, "values": gy.shares, "is_did": False})
        for g in ("same_counties", "matched"):
            rows.append({"period": p, "group": f"did:{g}", "label": _("DiD vs %(group)s (points)") % {"group": labels[g]}, "townships": None,
                         "values": c.did[g][p], "is_did": True})
    return rows


def programme_tables(ctx: dict) -> list[Table]:
    """The path to the goal and the pilot comparison, for the province and city exports."""
    from .exports import PCT, school_year

    tables = []
    path = ctx.get("goal_path") or {}
    if path.get("years"):
        tables.append(Table(
            title=_("Path to the goal"),
            headers=[_("school year"), _("Townships"), _("attaining all seven"), _("share"), _("on the path"), _("path share"), _("behind the path"),
                     _("pilots"), _("pilots attaining all seven")],
            rows=[[school_year(y["period"]), y["townships"], y["attained"], y["share"], y["path_count"], y["path_share"], y["behind"], y["pilots"],
                   y["pilots_attained"]] for y in path["years"]],
            formats=[None, INT, INT, PCT, INT, PCT, INT, INT, INT],
        ))
        if path.get("behind"):
            tables.append(Table(
                title=_("Furthest behind the path this year"), headers=[_("code"), _("area"), _("Townships"), _("attaining all seven"), _("share"), _("points behind")],
                rows=[[r["code"], r["name"], r["townships"], r["attained"], r["share"], r["gap"]] for r in path["behind"]],
                formats=[None, None, INT, INT, PCT, "0.0"],
            ))
    for c in ctx.get("pilot_comparison") or []:
        rows = comparison_rows(c)
        heads = [_("school year"), _("group"), _("Townships"), *(f"{_('Target')} {n}" for n in range(1, 8)), _("all seven")]
        tables.append(Table(
            title=_("Pilots %(batch)s against comparable townships") % {"batch": f"{c.batch.year} {c.batch.name}"}, headers=heads,
            rows=[[school_year(r["period"]), r["label"], r["townships"], *r["values"]] for r in rows],
            row_formats=["0.0" if r["is_did"] else PCT for r in rows],
            note=_("Difference-in-differences = the pilots' change since the batch's year minus the comparison group's change, in percentage points."),
        ))
    return tables
