"""The area dashboards: per child area the 乡镇 attaining each target, the programme goal, the
trend by school year and the rankings — a fixed number of queries over the area results."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, Subquery

from evaluation.models import (
    AreaResult,
    TargetResult,
    TownshipResult,
)
from evaluation.rollup import goal_progress
from evaluation.vocabulary import Verdict
from townships.models import Division, Level

from .filters import APPROVED, TARGET_NUMBERS, Filters, population_labels, target_names


@dataclass
class AreaRow:
    code: str
    name: str
    townships: int = 0
    attained: dict = field(default_factory=dict)  # target number (0 = all seven) → count
    approved: int = 0  # 乡镇 whose self-assessment the province approved in the round

    def share(self, target: int) -> float | None:
        return self.attained.get(target, 0) / self.townships if self.townships else None

    @property
    def share_0(self) -> float | None:
        return self.share(0)

    @property
    def cells(self) -> list[tuple[int, int, float | None]]:
        return [(n, self.attained.get(n, 0), self.share(n)) for n in (*TARGET_NUMBERS, 0)]


def _area_rows(codes: list[tuple[str, str]], f: Filters) -> tuple[dict[str, AreaRow], dict]:
    """Rows of the area and its children for the chosen population, and the area's all-seven
    count for every population (the headline) — one query."""
    rows = {code: AreaRow(code=code, name=name) for code, name in codes}
    populations = {}
    for code, population, target, townships, attained in AreaResult.objects.filter(
        Q(population=f.population, division_code__in=list(rows)) | Q(division_code=f.area.code, target_number=0),
        period=f.period, round_key=f.round_key, stage=f.stage,
    ).values_list("division_code", "population", "target_number", "townships", "attained"):
        if code == f.area.code and target == 0:
            populations[population] = (townships, attained)
        if population == f.population:
            rows[code].townships = townships
            rows[code].attained[target] = attained
    return rows, populations


def area_dashboard(f: Filters) -> dict:
    """Everything an area's dashboard shows, in a fixed number of queries."""
    area = f.area
    if len(area.code) == 6:
        children = []
    else:
        children = list(Division.objects.filter(parent_id=area.code).order_by("code").values_list("code", "name"))
    if f.population == APPROVED:
        rows, populations = _approved_rows([(area.code, area.name), *children], f)
    else:
        rows, populations = _area_rows([(area.code, area.name), *children], f)
    total = rows.pop(area.code)
    # A county's approvals come with its townships' rows (county_townships); above, per child area.
    approvals = approval_counts(f, width=len(children[0][0])) if children else {}
    for row in rows.values():
        row.approved = approvals.get(row.code, 0)
    total.approved = sum(approvals.values())
    return {
        "total": total,
        "children": list(rows.values()),
        "populations": [
            {"key": key, "label": label, "townships": populations.get(key, (0, 0))[0], "attained": populations.get(key, (0, 0))[1]}
            for key, label in population_labels(f)
        ],
        "scorecard": scorecard(total),
        "trend": trend(f),
        "targets": target_names(f.framework),
    }


def _approved_rows(codes: list[tuple[str, str]], f: Filters) -> tuple[dict[str, AreaRow], dict]:
    """Approved figures only: the roll-up's verdicts of the 乡镇 the province approved in this
    round, counted per area at request time (a few hundred rows at most, grouped in SQL)."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from workflow.models import AssessmentStatus, SelfAssessment

    rows = {code: AreaRow(code=code, name=name) for code, name in codes}
    width = len(codes[1][0]) if len(codes) > 1 else len(f.area.code)
    approved = SelfAssessment.objects.filter(round_id=f.round_key, status=AssessmentStatus.PROVINCE_APPROVED, township_id=OuterRef("division_code"))
    per_target = (
        TargetResult.objects.filter(period=f.period, round_key=f.round_key, division_code__startswith=f.area.code).filter(Exists(approved))
        .annotate(area=Substr("division_code", 1, width)).values("area", "target_number")
        .annotate(attained=Count("id", filter=Q(verdict=Verdict.ATTAINED)))
    )
    seven = (
        TownshipResult.objects.filter(period=f.period, round_key=f.round_key, division_code__startswith=f.area.code).filter(Exists(approved))
        .annotate(area=Substr("division_code", 1, width)).values("area").annotate(n=Count("id"), attained=Count("id", filter=Q(all_seven=True)))
    )
    total = rows[f.area.code]
    for r in per_target:
        if r["area"] in rows:
            rows[r["area"]].attained[r["target_number"]] = r["attained"]
        if width != len(f.area.code):
            total.attained[r["target_number"]] = total.attained.get(r["target_number"], 0) + r["attained"]
    for r in seven:
        if r["area"] in rows:
            rows[r["area"]].townships, rows[r["area"]].attained[0] = r["n"], r["attained"]
        if width != len(f.area.code):
            total.townships += r["n"]
            total.attained[0] = total.attained.get(0, 0) + r["attained"]
    return rows, {APPROVED: (total.townships, total.attained.get(0, 0))}


def approval_counts(f: Filters, *, width: int) -> dict[str, int]:
    """乡镇 per area whose self-assessment the province approved in the round on screen."""
    if not f.round_key:
        return {}
    from django.db.models import Count
    from django.db.models.functions import Substr

    from workflow.models import AssessmentStatus, SelfAssessment

    rows = (
        SelfAssessment.objects.filter(round_id=f.round_key, status=AssessmentStatus.PROVINCE_APPROVED, township__code__startswith=f.area.code)
        .annotate(area=Substr("township_id", 1, width)).values("area").annotate(n=Count("id"))
    )
    return {r["area"]: r["n"] for r in rows}




def scorecard(total: AreaRow) -> dict:
    """The programme goal (at least half of the 乡镇 by the end of the 14th five-year plan) for
    the area on screen: count, share and the distance to the goal."""
    return goal_progress(townships=total.townships, attained=total.attained.get(0, 0))


def trend(f: Filters) -> list[dict]:
    """Share attaining each target (and all seven) by school year: for every year its latest
    round, or data only when the dashboard shows data only."""
    if not f.periods:
        return []
    latest = {}
    for r in f.rounds:
        latest[r.period] = r.pk
    pairs = [(p, latest.get(p, 0) if f.round_key else 0) for p in f.periods]
    q = reduce(or_, (Q(period=p, round_key=k) for p, k in pairs))
    # A target no 乡镇 of the area could be judged on in a year (target 7 in the first year: no
    # previous year to rise on) is a gap in the series, not a share of 0; all seven with it.
    judged_here = TargetResult.objects.filter(
        period=OuterRef("period"), round_key=OuterRef("round_key"), target_number=OuterRef("target_number"), division_code__startswith=f.area.code,
    ).exclude(verdict=Verdict.INSUFFICIENT)
    found, judged = {}, set()
    for period, target, townships, attained, was_judged in AreaResult.objects.filter(
        q, division_code=f.area.code, population=f.population, stage=f.stage
    ).annotate(judged=Exists(judged_here)).values_list("period", "target_number", "townships", "attained", "judged"):
        found[(period, target)] = attained / townships if townships else None
        if was_judged:
            judged.add((period, target))
    # All seven is a gap in a year missing a target other years have (a target never judged in
    # the series, 3 without a round, leaves it a true 0).
    ever = {n for _p, n in judged}
    rows = []
    for p in f.periods:
        shares = [found.get((p, n)) if (p, n) in judged else None for n in TARGET_NUMBERS]
        seven = found.get((p, 0)) if all((p, n) in judged for n in ever) else None
        rows.append({"period": p, "shares": [*shares, seven]})
    # The series start at the first school year with any figure.
    while rows and all(s is None for s in rows[0]["shares"]):
        rows.pop(0)
    return rows


def rankings(f: Filters, *, width: int, limit: int = 10) -> list[AreaRow]:
    """Areas of one level under the dashboard's area, best first by the share attaining all
    seven, then by the mean share over the seven targets."""
    rows: dict[str, AreaRow] = {}
    name_of = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
    level = {4: Level.CITY, 6: Level.COUNTY}[width]
    for code, name, target, townships, attained in (
        AreaResult.objects.filter(division_code__startswith=f.area.code, period=f.period, round_key=f.round_key, population=f.population, stage=f.stage)
        .filter(Exists(Division.objects.filter(code=OuterRef("division_code"), level=level)))
        .annotate(name=Subquery(name_of))
        .values_list("division_code", "name", "target_number", "townships", "attained")
    ):
        row = rows.setdefault(code, AreaRow(code=code, name=name or code))
        row.townships = townships
        row.attained[target] = attained
    ranked = [r for r in rows.values() if r.townships]
    ranked.sort(key=lambda r: (-(r.share(0) or 0), -sum((r.share(n) or 0) for n in TARGET_NUMBERS), r.code))
    return ranked
