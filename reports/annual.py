"""The annual report of a province, city or county for a school year: the year told in sentences
and tables, as Jining's reply to its people's congress tells it (seed 000) — 乡镇 and pilots,
schools and pupils, targets attained and the change from last year, plans filed, funding planned
and spent, rectification opened and closed, value-added leaders and laggards, good practice.

Its figures of attainment are the dashboard's own (`area_dashboard` with the same filters), so
the report and the page never disagree; the rest is read by `selectors.annual`."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from . import charts, selectors
from .exports import INT, PCT, SCORE, Table, school_year
from .selectors.annual import annual_figures, value_added_summary

MONEY = "#,##0.00"


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # inline SVG, drawn by reports.charts


def _pct(share) -> str:
    return "—" if share is None else f"{float(share) * 100:.1f}%"


def _rate(spent: Decimal, planned: Decimal) -> float | None:
    return float(spent / planned) if planned else None


def _previous(f, jurisdiction) -> dict | None:
    """Last school year's dashboard with the same population and stage: data only beside data
    only, otherwise that year's judgment of record (its latest round), as its dashboard opens."""
    if f.period is None or f.period - 1 not in f.periods:
        return None
    params = {"period": f.period - 1, "population": f.population, "stage": f.stage}
    if not f.round_key:
        params["round"] = 0
    return selectors.area_dashboard(selectors.parse_filters(params, jurisdiction, area=f.area))


def annual_report(f, jurisdiction) -> dict:
    """The report's title and sections for the area and school year of `f`."""
    dashboard = selectors.area_dashboard(f)
    previous = _previous(f, jurisdiction)
    figures = annual_figures(f, jurisdiction)
    year, area = school_year(f.period), f.area.name
    total, card = dashboard["total"], dashboard["scorecard"]
    level_child = {2: _("city"), 4: _("county"), 6: _("township")}[len(f.area.code)]
    sections = [
        _overview(f, dashboard, figures, year, area, level_child),
        _targets(f, dashboard, previous, year, level_child),
        _plans(f, figures, level_child),
        _funding(figures, level_child),
        _rectification(figures, level_child),
        _value_added(f),
        _practice(figures),
    ]
    return {
        "title": _("%(area)s: the Qiangzhen Zhuji programme in the %(year)s") % {"area": area, "year": year},
        "basis": f.round.name if f.round else _("school data only"),
        "framework": f.framework,
        "sections": sections,
        "total": total,
        "scorecard": card,
        "previous": previous,
        "figures": figures,
    }


def _overview(f, dashboard, figures, year, area, level_child) -> Section:
    card, schools = dashboard["scorecard"], figures["schools"]
    populations = {p["key"]: p for p in dashboard["populations"]}
    pilots = populations.get("pilots", {}).get("townships", 0)
    section = Section(title=_("1. The year in figures"))
    section.paragraphs.append(_(
        "In the %(year)s, %(area)s counts %(townships)s townships (乡 and 镇) in the programme, %(pilots)s of them provincial pilot townships. "
        "%(schools)s schools reported their data for the year, %(seat)s of them seat schools, with %(students)s students and %(teachers)s full-time teachers."
    ) % {"year": year, "area": area, "townships": card["townships"], "pilots": pilots, "schools": schools["schools"], "seat": schools["seat_schools"],
         "students": f"{schools['students']:,}", "teachers": f"{schools['teachers']:,}"})
    batches = [p for p in dashboard["populations"] if p["key"].startswith("batch:") and p["townships"]]
    if batches:
        section.tables.append(Table(
            title=_("Pilot townships by batch"), headers=[_("pilot batch"), _("Townships"), _("all seven"), _("share")],
            rows=[[p["label"], p["townships"], p["attained"], p["attained"] / p["townships"]] for p in batches], formats=[None, INT, INT, PCT],
        ))
    rows = {c.code: c for c in figures["children"]}
    section.tables.append(Table(
        title=_("Schools and students by %(level)s") % {"level": level_child},
        headers=[_("code"), _("area"), _("schools"), _("students")],
        rows=[[r.code, r.name, r.schools, r.students] for r in rows.values() if r.schools], formats=[None, None, INT, INT],
    ))
    return section


def _targets(f, dashboard, previous, year, level_child) -> Section:
    total, card = dashboard["total"], dashboard["scorecard"]
    section = Section(title=_("2. Targets attained"))
    text = _("%(attained)s of %(townships)s townships attain all seven targets (%(share)s).") % {
        "attained": card["attained"], "townships": card["townships"], "share": _pct(card["share"])}
    if previous is not None:
        before = previous["scorecard"]
        text += " " + _("Last school year %(attained)s of %(townships)s (%(share)s): %(change)s townships.") % {
            "attained": before["attained"], "townships": before["townships"], "share": _pct(before["share"]), "change": f"{card['attained'] - before['attained']:+d}"}
    else:
        text += " " + _("There are no figures of the previous school year to compare with.")
    if card["distance"]:
        text += " " + _("The goal for the end of %(deadline)s is at least half of the townships, %(goal)s: %(distance)s more are needed.") % card
    else:
        text += " " + _("The goal for the end of %(deadline)s, at least half of the townships (%(goal)s), is reached.") % card
    section.paragraphs.append(text)
    names = [f"{_('Target')} {n} {name}" for n, name in dashboard["targets"]]
    section.charts.append(charts.bar_chart([*(f"{_('Target')} {n}" for n, _name in dashboard["targets"]), _("all seven")],
                                           [s for _n, _a, s in total.cells], goal=card["goal_share"]))
    last = previous["total"] if previous is not None else None
    rows = []
    for (n, attained, share), label in zip(total.cells, [*names, _("all seven")], strict=True):
        before = last.attained.get(n, 0) if last is not None else None
        rows.append([label, attained, share, before, last.share(n) if last is not None else None, None if before is None else attained - before])
    section.tables.append(Table(
        title=_("Targets: this year and last"), headers=[_("target"), _("attained"), _("share"), _("last year"), pgettext("annual report", "share last year"), _("change")],
        rows=rows, formats=[None, INT, PCT, INT, PCT, INT],
    ))
    if dashboard["trend"]:
        section.charts.append(charts.line_chart([t["period"] for t in dashboard["trend"]], [
            (label, [t["shares"][i] for t in dashboard["trend"]]) for i, label in enumerate([*(f"{_('Target')} {n}" for n, _x in dashboard["targets"]), _("all seven")])
        ]))
    if dashboard["children"]:
        section.tables.append(Table(
            title=_("All seven targets by %(level)s") % {"level": level_child},
            headers=[_("code"), _("area"), _("Townships"), _("all seven"), _("share")],
            rows=[[r.code, r.name, r.townships, r.attained.get(0, 0), r.share(0)] for r in dashboard["children"]], formats=[None, None, INT, INT, PCT],
        ))
    return section


def _plans(f, figures, level_child) -> Section:
    plans = figures["plans"]
    section = Section(title=_("3. Implementation plans"))
    section.paragraphs.append(_("%(filed)s implementation plans were filed for %(year)s; %(drafts)s are still drafts.") % {
        "filed": len(plans["filed"]), "year": f.period, "drafts": plans["drafts"]})
    if len(f.area.code) < 6:
        missing = [c.name for c in figures["children"] if not c.plan_filed]
        if missing:
            section.paragraphs.append(_("Without a filed plan: %(names)s.") % {"names": "、".join(missing)})
    if plans["filed"]:
        section.tables.append(Table(
            title=_("Plans filed"), headers=[_("code"), _("area"), _("title"), _("filed at")],
            rows=[[unit, name, title, at.date().isoformat() if at else None] for unit, name, title, at in plans["filed"]],
        ))
    return section


def _funding(figures, level_child) -> Section:
    money = figures["funding"]
    section = Section(title=_("4. Funding"))
    section.paragraphs.append(_(
        "Provincial funds: %(pp)s planned, %(ps)s spent (%(prate)s). Local matching: %(lp)s planned, %(ls)s spent (%(lrate)s). Amounts in 10k yuan."
    ) % {"pp": f"{money['provincial_planned']:,.2f}", "ps": f"{money['provincial_spent']:,.2f}", "prate": _pct(_rate(money["provincial_spent"], money["provincial_planned"])),
         "lp": f"{money['local_planned']:,.2f}", "ls": f"{money['local_spent']:,.2f}", "lrate": _pct(_rate(money["local_spent"], money["local_planned"]))})
    rows = [c for c in figures["children"] if any(c.funding.values())]
    if rows:
        section.tables.append(Table(
            title=_("Funding by %(level)s (10k yuan)") % {"level": level_child},
            headers=[_("code"), _("area"), _("provincial funds, planned"), _("provincial funds, spent"), _("local matching, planned"), _("local matching, spent")],
            rows=[[c.code, c.name, *(float(c.funding[m]) for m in ("provincial_planned", "provincial_spent", "local_planned", "local_spent"))] for c in rows],
            formats=[None, None, MONEY, MONEY, MONEY, MONEY],
        ))
    return section


def _rectification(figures, level_child) -> Section:
    items = figures["items"]
    section = Section(title=_("5. Rectification"))
    section.paragraphs.append(_(
        "The year's evaluation rounds opened %(opened)s rectification items: %(closed)s are closed, %(open)s still open, %(overdue)s of them past their deadline."
    ) % items)
    rows = [c for c in figures["children"] if c.items_opened]
    if rows:
        section.tables.append(Table(
            title=_("Rectification by %(level)s") % {"level": level_child}, headers=[_("code"), _("area"), pgettext("annual report", "opened"), _("closed"), pgettext("annual report", "still open")],
            rows=[[c.code, c.name, c.items_opened, c.items_closed, c.items_opened - c.items_closed] for c in rows], formats=[None, None, INT, INT, INT],
        ))
    return section


def _value_added(f) -> Section:
    section = Section(title=_("6. Value-added: leaders and laggards"))
    summary = value_added_summary(f)
    if not summary:
        section.paragraphs.append(_("No value-added estimates exist for this school year yet; this section is left out."))
        return section
    section.paragraphs.append(_(
        "%(above)s township figures were significantly above what the township's own last year predicts, and %(below)s significantly below "
        "(a school-level estimate: the fit of this year on last year across the province's seat schools; see the value-added explanation on the township pages)."
    ) % {"above": summary["above"], "below": summary["below"]})
    for key, title in (("leaders", pgettext("annual report", "Above expectation")), ("laggards", pgettext("annual report", "Below expectation"))):
        rows = summary.get(key) or []
        if rows:
            section.tables.append(Table(title=title, headers=[_("code"), _("township"), _("point"), pgettext("annual report", "value-added")],
                                        rows=[[r["code"], r["name"], r["point"], r["value_added"]] for r in rows], formats=[None, None, None, SCORE]))
    return section


def _practice(figures) -> Section:
    practice = figures["practice"]
    section = Section(title=_("7. Good practice"))
    section.paragraphs.append(_("%(n)s good-practice cases were published in the school year.") % {"n": len(practice)})
    if practice:
        section.tables.append(Table(
            title=_("Good practice published"), headers=[_("area"), _("title"), _("theme")],
            rows=[[c.unit.name, c.title, c.get_theme_display()] for c in practice],
        ))
    return section
