"""The reads of an area's annual report beyond its dashboard's: schools and pupils, plans filed,
funding, rectification and good practice of the school year — each grouped in SQL by the area's
children (cities of the province, counties of a city, 乡镇 of a county), a fixed number of queries.

Every read is scoped twice: through the jurisdiction rule, and to the report's area (which
`parse_filters` has already checked against that jurisdiction)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from evaluation.models import SchoolYear
from townships.jurisdiction import Jurisdiction
from townships.models import Division, Level

from .filters import CHILD_WIDTH, Filters

ZERO = 0


@dataclass
class ChildFigures:
    code: str
    name: str
    schools: int = 0
    students: int = 0
    plan_filed: bool = False
    funding: dict = field(default_factory=lambda: dict.fromkeys(("provincial_planned", "provincial_spent", "local_planned", "local_spent"), ZERO))
    items_opened: int = 0
    items_closed: int = 0


def school_year_bounds(period: int) -> tuple[datetime.datetime, datetime.datetime]:
    """A school year runs from 1 September to the next 31 August (the period's first year)."""
    tz = timezone.get_current_timezone()
    return datetime.datetime(period, 9, 1, tzinfo=tz), datetime.datetime(period + 1, 9, 1, tzinfo=tz)


def _children(area: Division) -> list[tuple[str, str]]:
    if len(area.code) == 6:
        from townships.models import PROGRAMME_KINDS

        return list(Division.objects.filter(parent_id=area.code, level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS).order_by("code").values_list("code", "name"))
    return list(Division.objects.filter(parent_id=area.code).order_by("code").values_list("code", "name"))


def annual_figures(f: Filters, jurisdiction: Jurisdiction) -> dict:
    """The year's figures of the area and of each child area."""
    from workflow.models import Funding, GoodPractice, ItemStatus, Plan, PlanStatus, RectificationItem

    area, period = f.area.code, f.period
    width = CHILD_WIDTH[len(area)]
    children = {code: ChildFigures(code=code, name=name) for code, name in _children(f.area)}

    schools = (
        jurisdiction.filter(SchoolYear.objects.filter(period=period, township__code__startswith=area), "township")
        .annotate(child=Substr("township_id", 1, width)).values("child")
        .annotate(n=Count("id"), seat=Count("id", filter=Q(school__is_seat=True)), students=Sum("students"), teachers=Sum("teachers"))
    )
    totals = {"schools": 0, "seat_schools": 0, "students": 0, "teachers": 0}
    for row in schools:
        totals["schools"] += row["n"]
        totals["seat_schools"] += row["seat"]
        totals["students"] += row["students"] or 0
        totals["teachers"] += row["teachers"] or 0
        if row["child"] in children:
            children[row["child"]].schools, children[row["child"]].students = row["n"], row["students"] or 0

    plans = list(
        jurisdiction.filter(Plan.objects.filter(year=period, unit__code__startswith=area), "unit").values_list("unit_id", "status", "title", "filed_at")
    )
    filed = [(unit, title, filed_at) for unit, status, title, filed_at in plans if status == PlanStatus.FILED]
    for unit, _title, _at in filed:
        if unit in children:
            children[unit].plan_filed = True
    names = dict(Division.objects.filter(code__in=[u for u, _t, _a in filed]).values_list("code", "name"))

    money = ("provincial_planned", "provincial_spent", "local_planned", "local_spent")
    funding_total = dict.fromkeys(money, ZERO)
    for row in (
        jurisdiction.filter(Funding.objects.filter(year=period, township__code__startswith=area), "township")
        .annotate(child=Substr("township_id", 1, width)).values("child").annotate(**{m: Sum(m) for m in money})
    ):
        for m in money:
            funding_total[m] += row[m] or ZERO
            if row["child"] in children:
                children[row["child"]].funding[m] = row[m] or ZERO

    today = timezone.localdate()
    items_total = {"opened": 0, "closed": 0, "open": 0, "overdue": 0}
    for row in (
        jurisdiction.filter(RectificationItem.objects.filter(round__period=period, township__code__startswith=area), "township")
        .annotate(child=Substr("township_id", 1, width)).values("child")
        .annotate(opened=Count("id"), closed=Count("id", filter=Q(status=ItemStatus.CLOSED)),
                  overdue=Count("id", filter=~Q(status=ItemStatus.CLOSED) & Q(due_on__lt=today)))
    ):
        items_total["opened"] += row["opened"]
        items_total["closed"] += row["closed"]
        items_total["overdue"] += row["overdue"]
        if row["child"] in children:
            children[row["child"]].items_opened, children[row["child"]].items_closed = row["opened"], row["closed"]
    items_total["open"] = items_total["opened"] - items_total["closed"]

    start, end = school_year_bounds(period)
    practice = list(
        jurisdiction.filter(GoodPractice.objects.filter(unit__code__startswith=area, status="published", reviewed_at__gte=start, reviewed_at__lt=end), "unit")
        .select_related("unit").order_by("unit_id", "reviewed_at", "pk")
    )
    return {
        "children": list(children.values()),
        "schools": totals,
        "plans": {"filed": [(unit, names.get(unit, unit), title, at) for unit, title, at in sorted(filed)], "drafts": len(plans) - len(filed)},
        "funding": funding_total,
        "items": items_total,
        "practice": practice,
    }


def value_added_summary(f: Filters, limit: int = 20) -> dict | None:
    """The area's 乡镇 whose value-added is significantly above or below what their own last year
    predicts (the interval excludes 0), for the year and stage: the leaders and the laggards, each
    naming its point (points differ in unit, so rows are not ranked across points: largest first
    within each point). None while the year has no value-added estimates in the area."""
    from django.db.models import OuterRef, Subquery

    from evaluation.models import ValueAdded, ValueAddedVerdict
    from evaluation.rollup.scope import prefix_range
    from townships.models import Division

    if f.period is None:
        return None
    rng = prefix_range(f.area.code)
    rows = ValueAdded.objects.filter(period=f.period, school_code="", division_code__gte=rng["lo"], division_code__lt=rng["hi"])
    if f.stage != "all":
        rows = rows.filter(stage=f.stage)
    name = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
    found = list(
        rows.filter(verdict__in=[ValueAddedVerdict.ABOVE, ValueAddedVerdict.BELOW])
        .annotate(name=Subquery(name)).select_related("point")
        .order_by("point__target__number", "point__order", "point__code", "-value_added", "division_code")
    )
    if not found and not rows.exists():
        return None
    def shape(r):
        return {"code": r.division_code, "name": r.name or r.division_code, "point": f"{r.point.code} {r.point.name}", "value_added": r.value_added}
    leaders = [shape(r) for r in found if r.verdict == ValueAddedVerdict.ABOVE]
    laggards = [shape(r) for r in reversed(found) if r.verdict == ValueAddedVerdict.BELOW]
    return {"leaders": leaders[:limit], "laggards": laggards[:limit], "above": len(leaders), "below": len(laggards)}
