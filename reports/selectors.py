"""Reads for dashboards, township pages and their exports — always over the roll-up's result
tables, always inside a jurisdiction. Each function issues a fixed number of queries, whatever
the size of the area: the page's query count does not grow with the data."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from evaluation.models import (
    AreaResult,
    InspectionForm,
    Judgment,
    PointResult,
    Round,
    SchoolYear,
    Target,
    TargetResult,
    TownshipResult,
    TownshipYear,
)
from townships.jurisdiction import Jurisdiction
from townships.models import PROGRAMME_KINDS, Division, Level, PilotBatch, PilotTownship, School

TARGET_NUMBERS = range(1, 8)
# The population of 乡镇 whose self-assessment the province approved in the round on screen.
APPROVED = "approved"
STAGES = ("kindergarten", "primary", "junior")
CHILD_WIDTH = {2: 4, 4: 6, 6: 9}


@dataclass
class Filters:
    """What a dashboard shows: one area, one school year, one round (0 = data only), one
    population of 乡镇 and one stage — parsed once, validated against the jurisdiction."""

    area: Division
    period: int | None
    round_key: int
    population: str
    stage: str
    periods: list[int] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    batches: list[PilotBatch] = field(default_factory=list)

    def as_query(self, **override) -> str:
        from urllib.parse import urlencode

        params = {"area": self.area.code, "period": self.period or "", "round": self.round_key, "population": self.population, "stage": self.stage}
        params.update(override)
        return urlencode(params)

    @property
    def round(self) -> Round | None:
        return next((r for r in self.rounds if r.pk == self.round_key), None)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def root_area_code(jurisdiction: Jurisdiction) -> str | None:
    """The area a user's dashboard opens on: their unit (the province for operators)."""
    if jurisdiction.everything:
        return settings.PROVINCE_CODE
    staff = sorted((p for p in jurisdiction.prefixes if len(p) in CHILD_WIDTH), key=len)
    return staff[0] if staff else None


def parse_filters(params, jurisdiction: Jurisdiction, *, area_code: str | None = None, area: Division | None = None, populations: bool = True) -> Filters:
    """The dashboard's filters from a query string. An area outside the jurisdiction, or not a
    province, city or county, is "not found" — the same answer as a code that does not exist."""
    code = area.code if area is not None else area_code or params.get("area") or root_area_code(jurisdiction)
    if not code or len(code) not in CHILD_WIDTH or not jurisdiction.covers(code):
        raise Http404
    if area is None:
        area = Division.objects.select_related("parent__parent").filter(code=code).first()
    if area is None:
        raise Http404
    periods = sorted(set(AreaResult.objects.filter(division_code=code, stage="all", population="all").values_list("period", flat=True).distinct()))
    period = _int(params.get("period"))
    if period not in periods:
        period = periods[-1] if periods else None
    rounds = list(Round.objects.filter(period__in=periods).order_by("period", "id")) if periods else []
    in_period = [r for r in rounds if r.period == period]
    round_key = _int(params.get("round"))
    if round_key != 0 and round_key not in {r.pk for r in in_period}:
        # By default the latest round of the year: the judgment of record; 0 = data only.
        round_key = in_period[-1].pk if in_period else 0
    batches = list(PilotBatch.objects.order_by("year", "id")) if populations else []
    population = params.get("population") or "all"
    if population not in {"all", "pilots", *(f"batch:{b.pk}" for b in batches)} and not (population == APPROVED and round_key):
        population = "all"
    stage = params.get("stage") or "all"
    if stage not in ("all", *STAGES):
        stage = "all"
    return Filters(area=area, period=period, round_key=round_key, population=population, stage=stage, periods=periods, rounds=rounds, batches=batches)


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
        "targets": target_names(),
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
        .annotate(attained=Count("id", filter=Q(verdict="attained")))
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


def target_names() -> list[tuple[int, str]]:
    """The current framework's seven targets, in one query (the framework as a subquery)."""
    from evaluation.models import Framework

    latest = Framework.objects.order_by("-created_at", "-id").values("pk")[:1]
    return list(Target.objects.filter(framework_id__in=Subquery(latest)).order_by("number").values_list("number", "name"))


def stage_labels() -> dict[str, str]:
    return {"all": _("whole township"), "kindergarten": _("kindergarten"), "primary": _("primary school"), "junior": _("junior middle school")}


def population_labels(f: Filters) -> list[tuple[str, str]]:
    labels = [("all", _("all townships")), ("pilots", _("pilot townships")), *((f"batch:{b.pk}", f"{b.year} {b.name}") for b in f.batches)]
    if f.round_key:
        labels.append((APPROVED, _("approved by the province only")))
    return labels


def scorecard(total: AreaRow) -> dict:
    """The programme goal (at least half of the 乡镇 by the end of the 14th five-year plan) for
    the area on screen: count, share and the distance to the goal."""
    import math

    goal = math.ceil(total.townships * settings.PROGRAMME_GOAL_SHARE)
    attained = total.attained.get(0, 0)
    return {
        "townships": total.townships, "attained": attained, "share": attained / total.townships if total.townships else 0,
        "goal": goal, "distance": max(goal - attained, 0), "goal_share": settings.PROGRAMME_GOAL_SHARE,
        "deadline": settings.PROGRAMME_GOAL_YEAR,
    }


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
    found = {}
    for period, target, townships, attained in AreaResult.objects.filter(
        q, division_code=f.area.code, population=f.population, stage=f.stage
    ).values_list("period", "target_number", "townships", "attained"):
        found[(period, target)] = attained / townships if townships else None
    return [{"period": p, "shares": [found.get((p, n)) for n in (*TARGET_NUMBERS, 0)]} for p in f.periods]


def rankings(f: Filters, *, width: int, limit: int = 10) -> list[AreaRow]:
    """Areas of one level under the dashboard's area, best first by the share attaining all
    seven, then by the mean share over the seven targets."""
    rows: dict[str, AreaRow] = {}
    name = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
    level = {4: Level.CITY, 6: Level.COUNTY}[width]
    for code, name, target, townships, attained in (
        AreaResult.objects.filter(division_code__startswith=f.area.code, period=f.period, round_key=f.round_key, population=f.population, stage=f.stage)
        .filter(Exists(Division.objects.filter(code=OuterRef("division_code"), level=level)))
        .annotate(name=Subquery(name))
        .values_list("division_code", "name", "target_number", "townships", "attained")
    ):
        row = rows.setdefault(code, AreaRow(code=code, name=name or code))
        row.townships = townships
        row.attained[target] = attained
    ranked = [r for r in rows.values() if r.townships]
    ranked.sort(key=lambda r: (-(r.share(0) or 0), -sum((r.share(n) or 0) for n in TARGET_NUMBERS), r.code))
    return ranked


@dataclass
class TownshipRow:
    code: str
    name: str
    pilot: str = ""
    targets: dict = field(default_factory=dict)  # number → verdict
    attained: int | None = None
    all_seven: bool = False
    score: object = None
    scores: list = field(default_factory=list)
    vetoed: bool = False
    review: str = ""  # the self-assessment's status in the round
    has_township_data: bool = True  # a TownshipYear row for the school year


def summarise(row) -> None:
    """Targets attained, all seven and the mean score, read from the target verdicts exactly as
    the roll-up's township results are (evaluation/rollup.py TOWNSHIPS_SQL)."""
    from decimal import ROUND_HALF_UP, Decimal

    if not row.targets:
        return
    row.attained = sum(1 for v in row.targets.values() if v == "attained")
    row.all_seven = row.attained == 7 and not row.vetoed
    scores = [s for s in row.scores if s is not None]
    row.score = (sum(scores) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if scores else None


def county_townships(f: Filters) -> list[TownshipRow]:
    """A county's 乡镇 with each target's verdict (the county dashboard's table)."""
    code = f.area.code
    towns = Division.objects.filter(parent_id=code, level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS).order_by("code")
    if f.population == "pilots":
        towns = towns.filter(Exists(PilotTownship.objects.filter(township_id=OuterRef("code"))))
    elif f.population.startswith("batch:"):
        towns = towns.filter(Exists(PilotTownship.objects.filter(township_id=OuterRef("code"), batch_id=_int(f.population[6:]))))
    batch = PilotTownship.objects.filter(township_id=OuterRef("code")).order_by("batch__year").values("batch__name")[:1]
    has_data = Exists(TownshipYear.objects.filter(township_id=OuterRef("code"), period=f.period))
    rows = {
        c: TownshipRow(code=c, name=n, pilot=p or "", has_township_data=d)
        for c, n, p, d in towns.annotate(batch=Subquery(batch), has_data=has_data).values_list("code", "name", "batch", "has_data")
    }
    for town, n, verdict, score, vetoed in TargetResult.objects.filter(
        division_code__startswith=code, period=f.period, round_key=f.round_key
    ).values_list("division_code", "target_number", "verdict", "score", "vetoed"):
        if town in rows:
            rows[town].targets[n] = verdict
            rows[town].scores.append(score)
            rows[town].vetoed = rows[town].vetoed or vetoed
    for row in rows.values():
        summarise(row)
    if f.round_key:
        from workflow.models import SelfAssessment

        for town, status in SelfAssessment.objects.filter(round_id=f.round_key, township__parent_id=code).values_list("township_id", "status"):
            if town in rows:
                rows[town].review = status
    if f.population == APPROVED:
        rows = {c: r for c, r in rows.items() if r.review == "province_approved"}
    return list(rows.values())


def missing_uploads(f: Filters, townships: list) -> dict:
    """For a county officer: schools and 乡镇 with no data for the school year on screen (the
    乡镇 come from the county's township rows, which know whether their data is in)."""
    code = f.area.code
    schools = (
        School.objects.filter(township__parent_id=code)
        .exclude(Exists(SchoolYear.objects.filter(school_id=OuterRef("pk"), period=f.period)))
        .select_related("township")
        .order_by("code")
    )
    missing = list(schools)  # a county has a few hundred schools at most
    return {"schools": missing, "schools_count": len(missing), "townships": [(t.code, t.name) for t in townships if not t.has_township_data]}


# --- The township page ------------------------------------------------------------------------


def township_in(jurisdiction: Jurisdiction, code: str) -> Division:
    """A 乡镇 inside the jurisdiction; outside it is "not found", like a code that does not exist."""
    if not jurisdiction.covers(code):
        raise Http404
    batch = PilotTownship.objects.filter(township_id=OuterRef("code")).order_by("batch__year").values("batch__name")[:1]
    year = PilotTownship.objects.filter(township_id=OuterRef("code")).order_by("batch__year").values("batch__year")[:1]
    town = (
        Division.objects.select_related("parent__parent__parent").annotate(pilot_batch=Subquery(batch), pilot_year=Subquery(year))
        .filter(code=code, level=Level.TOWNSHIP).first()
    )
    if town is None:
        raise Http404
    return town


def township_page(town: Division, f: Filters) -> dict:
    code = town.code
    results = list(
        PointResult.objects.filter(division_code=code, period=f.period, round_key__in=[0, f.round_key])
        .select_related("point__target")
        .order_by("point__target__number", "point__id", "stage")
    )
    if f.stage != "all":
        results = [r for r in results if r.stage in (f.stage, "all")]
    labels = stage_labels()
    for r in results:
        r.stage_label = labels.get(r.stage, r.stage)
        r.gap = None if r.value is None or r.reference is None else r.value - r.reference
        r.change = None if r.value is None or r.previous_value is None else r.value - r.previous_value
    targets = {t.target_number: t for t in TargetResult.objects.filter(division_code=code, period=f.period, round_key=f.round_key)}
    summary = TownshipRow(code=code, name=town.name, targets={n: t.verdict for n, t in targets.items()},
                          scores=[t.score for t in targets.values()], vetoed=any(t.vetoed for t in targets.values()))
    summarise(summary)
    # Every form has its judgments (opened together), so the form comes with its first judgment.
    judgments = list(
        Judgment.objects.filter(form__round_id=f.round_key, form__township_id=code)
        .select_related("form__round", "point__target").order_by("point__target__number", "point__id").prefetch_related("evidence")
    ) if f.round_key else []
    form = judgments[0].form if judgments else None
    schools = (
        School.objects.filter(township_id=code).annotate(facts=FilteredRelation("years", condition=Q(years__period=f.period)))
        .annotate(facts_id=F("facts__id"), students=F("facts__students"), teachers=F("facts__teachers"), teacher_posts=F("facts__teacher_posts"))
        .order_by("-is_seat", "stage", "code")
    )
    from workflow.selectors import township_items

    return {
        "town": town, "results": results, "targets": targets, "summary": summary if targets else None, "form": form, "judgments": judgments,
        "schools": list(schools), "items": township_items(code),
        "target_names": dict(target_names()),
    }

