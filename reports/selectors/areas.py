"""The area dashboards: per child area the 乡镇 attaining each target, the programme goal, the
trend by school year and the rankings — a fixed number of queries over the area results."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import BooleanField, Case, CharField, Count, Exists, OuterRef, Q, Subquery, Value, When

from evaluation.models import (
    AreaResult,
    TargetResult,
    TownshipResult,
)
from evaluation.rollup import goal_progress
from evaluation.rollup.scope import prefix_range
from evaluation.vocabulary import Verdict
from townships.models import Division, Level

from .filters import APPROVED, TARGET_NUMBERS, Filters, population_labels


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
    return rows, _fill_rows(rows, f, AreaResult.objects.filter(_rows_part(f, list(rows))).values_list(
        "division_code", "population", "target_number", "townships", "attained"))


def _rows_part(f: Filters, codes: list[str]) -> Q:
    return Q(Q(population=f.population, division_code__in=codes) | Q(division_code=f.area.code, target_number=0),
             period=f.period, round_key=f.round_key, stage=f.stage)


def _fill_rows(rows: dict[str, AreaRow], f: Filters, found) -> dict:
    populations = {}
    for code, population, target, townships, attained in found:
        if code == f.area.code and target == 0:
            populations[population] = (townships, attained)
        if population == f.population:
            rows[code].townships = townships
            rows[code].attained[target] = attained
    return populations


def _flag(part: Q) -> Case:
    return Case(When(part, then=Value(True)), default=Value(False), output_field=BooleanField())


def area_dashboard(f: Filters, *, ranking_width: int | None = None, goal: bool = False) -> dict:
    """Everything an area's dashboard shows, in a fixed number of queries. The area results the
    page shows in several places — the rows of the area and its children, the trend, the ranking
    of areas `ranking_width` digits long (`rankings`) and, with `goal`, the path to the goal's
    (`programme.goal_path`) — are read in one query, each row flagged with the parts it is for."""
    from .programme import goal_path_part

    area = f.area
    children = _children(f)
    codes = [(area.code, area.name), *((code, name) for code, name, _approved in children)]
    approved = f.population == APPROVED
    if approved:
        rows, populations = _approved_rows(codes, f)
    else:
        rows = {code: AreaRow(code=code, name=name) for code, name in codes}
    parts = {
        "rows": None if approved else _rows_part(f, list(rows)),
        "trend": _trend_part(f),
        "ranking": _ranking_part(f, ranking_width) if ranking_width else None,
        "goal": goal_path_part(f, [code for code, _name, _a in children]) if goal else None,
    }
    parts = {name: part for name, part in parts.items() if part is not None}
    found = []
    if parts:
        name_of = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
        annotations = {f"for_{name}": _flag(part) for name, part in parts.items()}
        if "trend" in parts:
            annotations["judged"] = Case(When(parts["trend"], then=_judged_here(f)), default=Value(None), output_field=CharField())
        if "ranking" in parts:
            annotations["name"] = Case(When(parts["ranking"], then=Subquery(name_of)), default=Value(None), output_field=CharField())
        found = list(AreaResult.objects.filter(reduce(or_, parts.values())).annotate(**annotations).values(
            "division_code", "period", "round_key", "population", "stage", "target_number", "townships", "attained", *annotations))
    if not approved:
        populations = _fill_rows(rows, f, ((r["division_code"], r["population"], r["target_number"], r["townships"], r["attained"])
                                           for r in found if r["for_rows"]))
    total = rows.pop(area.code)
    # A county's approvals come with its townships' rows (county_townships); above, per child area
    # (read with the children).
    for code, _name, approvals in children:
        rows[code].approved = approvals
    total.approved = sum(a for _c, _n, a in children)
    out = {
        "total": total,
        "children": list(rows.values()),
        "populations": [
            {"key": key, "label": label, "townships": populations.get(key, (0, 0))[0], "attained": populations.get(key, (0, 0))[1]}
            for key, label in population_labels(f)
        ],
        "scorecard": scorecard(total),
        "trend": _trend_rows(f, ((r["period"], r["target_number"], r["townships"], r["attained"], r["judged"]) for r in found if r["for_trend"]))
        if "trend" in parts else [],
        "targets": f.target_names,
    }
    if ranking_width:
        out["ranking"] = _ranked((r["division_code"], r["name"], r["target_number"], r["townships"], r["attained"]) for r in found if r["for_ranking"])
    if goal:
        out["goal_rows"] = [(r["division_code"], r["period"], r["population"], r["townships"], r["attained"]) for r in found if r["for_goal"]]
    return out


def _children(f: Filters) -> list[tuple[str, str, int]]:
    """The child areas (none for a county) with the 乡镇 of each whose self-assessment the
    province approved in the round on screen — one query."""
    if len(f.area.code) == 6:
        return []
    children = Division.objects.filter(parent_id=f.area.code).order_by("code")
    if not f.round_key:
        return [(code, name, 0) for code, name in children.values_list("code", "name")]
    from workflow.models import AssessmentStatus, SelfAssessment

    approved = (SelfAssessment.objects.filter(round_id=f.round_key, status=AssessmentStatus.PROVINCE_APPROVED, township__code__startswith=OuterRef("code"))
                .order_by().values("round_id").annotate(n=Count("id")).values("n"))
    return [(code, name, n or 0) for code, name, n in children.annotate(approved=Subquery(approved)).values_list("code", "name", "approved")]


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


def _trend_part(f: Filters) -> Q | None:
    """The area's rows of each school year: its latest round, or data only when the dashboard
    shows data only."""
    if not f.periods:
        return None
    latest = {}
    for r in f.rounds:
        latest[r.period] = r.pk
    pairs = [(p, latest.get(p, 0) if f.round_key else 0) for p in f.periods]
    return reduce(or_, (Q(period=p, round_key=k) for p, k in pairs)) & Q(division_code=f.area.code, population=f.population, stage=f.stage)


def _judged_here(f: Filters) -> Subquery:
    """A 乡镇 of the area judged on the row's target in its year and round (its code, else NULL).
    A target no 乡镇 of the area could be judged on in a year (target 7 in the first year: no
    previous year to rise on) is a gap in the series, not a share of 0; all seven with it."""
    # The codes as a range and the first in code order rather than EXISTS … LIKE: PostgreSQL then
    # walks the index (code, target, year, round) and stops at the first judged 乡镇, where the
    # EXISTS scanned the whole table once per year and target (80 ms for Shandong, now 15).
    rng = prefix_range(f.area.code)
    return Subquery(TargetResult.objects.filter(
        period=OuterRef("period"), round_key=OuterRef("round_key"), target_number=OuterRef("target_number"),
        division_code__gte=rng["lo"], division_code__lt=rng["hi"],
    ).exclude(verdict=Verdict.INSUFFICIENT).order_by("division_code").values("division_code")[:1])


def trend(f: Filters) -> list[dict]:
    """Share attaining each target (and all seven) by school year: for every year its latest
    round, or data only when the dashboard shows data only."""
    part = _trend_part(f)
    if part is None:
        return []
    return _trend_rows(f, AreaResult.objects.filter(part).annotate(judged=_judged_here(f)).values_list(
        "period", "target_number", "townships", "attained", "judged"))


def _trend_rows(f: Filters, found) -> list[dict]:
    shares, judged = {}, set()
    for period, target, townships, attained, was_judged in found:
        shares[(period, target)] = attained / townships if townships else None
        if was_judged is not None:  # the code of a 乡镇 judged on it
            judged.add((period, target))
    # All seven is a gap in a year missing a target other years have (a target never judged in
    # the series, 3 without a round, leaves it a true 0).
    ever = {n for _p, n in judged}
    rows = []
    for p in f.periods:
        cells = [shares.get((p, n)) if (p, n) in judged else None for n in TARGET_NUMBERS]
        seven = shares.get((p, 0)) if all((p, n) in judged for n in ever) else None
        rows.append({"period": p, "shares": [*cells, seven]})
    # The series start at the first school year with any figure.
    while rows and all(s is None for s in rows[0]["shares"]):
        rows.pop(0)
    return rows


def _ranking_part(f: Filters, width: int) -> Q:
    # A range of codes and a list of the level's codes (hashed once), rather than LIKE and an
    # EXISTS per row: the index's leading column is the code.
    level = {4: Level.CITY, 6: Level.COUNTY}[width]
    rng = prefix_range(f.area.code)
    of_level = Division.objects.filter(level=level, code__gte=rng["lo"], code__lt=rng["hi"]).values("code")
    return Q(division_code__gte=rng["lo"], division_code__lt=rng["hi"], division_code__in=of_level,
             period=f.period, round_key=f.round_key, population=f.population, stage=f.stage)


def rankings(f: Filters, *, width: int, limit: int = 10) -> list[AreaRow]:
    """Areas of one level under the dashboard's area, best first by the share attaining all
    seven, then by the mean share over the seven targets (on a dashboard: `area_dashboard`'s
    `ranking`, read with its other area results)."""
    name_of = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
    return _ranked(AreaResult.objects.filter(_ranking_part(f, width)).annotate(name=Subquery(name_of)).values_list(
        "division_code", "name", "target_number", "townships", "attained"))


def _ranked(found) -> list[AreaRow]:
    rows: dict[str, AreaRow] = {}
    for code, name, target, townships, attained in found:
        row = rows.setdefault(code, AreaRow(code=code, name=name or code))
        row.townships = townships
        row.attained[target] = attained
    ranked = [r for r in rows.values() if r.townships]
    ranked.sort(key=lambda r: (-(r.share(0) or 0), -sum((r.share(n) or 0) for n in TARGET_NUMBERS), r.code))
    return ranked
