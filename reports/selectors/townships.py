"""The townships of a county and a township's own page: verdicts, scores, points, judgments of
submitted forms, schools and the uploads still missing."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import CharField, Exists, F, FilteredRelation, OuterRef, Q, Subquery, Value
from django.http import Http404

from evaluation.models import (
    FormStatus,
    Judgment,
    PointResult,
    SchoolYear,
    TargetResult,
    TownshipYear,
)
from evaluation.rules import township_score
from evaluation.vocabulary import Verdict
from townships.jurisdiction import Jurisdiction
from townships.models import PROGRAMME_KINDS, Division, Level, PilotTownship, School

from .filters import APPROVED, Filters, _int, stage_labels


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
    the roll-up's township results are (evaluation/rollup/verdicts.py TOWNSHIPS_SQL)."""
    if not row.targets:
        return
    row.attained = sum(1 for v in row.targets.values() if v == Verdict.ATTAINED)
    row.all_seven = row.attained == 7 and not row.vetoed
    row.score = township_score(row.scores)


def county_townships(f: Filters) -> list[TownshipRow]:
    """A county's 乡镇 with each target's verdict (the county dashboard's table)."""
    code = f.area.code
    towns = Division.objects.filter(parent_id=code, level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS).order_by("code")
    # Pilots of the year on screen: a withdrawn pilot no longer counts from its year of withdrawal.
    pilots = PilotTownship.objects.in_year(f.period) if f.period is not None else PilotTownship.objects.all()
    if f.population == "pilots":
        towns = towns.filter(Exists(pilots.filter(township_id=OuterRef("code"))))
    elif f.population.startswith("batch:"):
        towns = towns.filter(Exists(pilots.filter(township_id=OuterRef("code"), batch_id=_int(f.population[6:]))))
    batch = pilots.filter(township_id=OuterRef("code")).order_by("batch__year").values("batch__name")[:1]
    has_data = Exists(TownshipYear.objects.filter(township_id=OuterRef("code"), period=f.period))
    # The self-assessment's status in the round on screen (one per 乡镇 and round), with the 乡镇.
    if f.round_key:
        from workflow.models import SelfAssessment

        review = Subquery(SelfAssessment.objects.filter(round_id=f.round_key, township_id=OuterRef("code")).order_by("-pk").values("status")[:1])
    else:
        review = Value("", output_field=CharField())
    rows = {
        c: TownshipRow(code=c, name=n, pilot=p or "", has_township_data=d, review=r or "")
        for c, n, p, d, r in towns.annotate(batch=Subquery(batch), has_data=has_data, review=review).values_list("code", "name", "batch", "has_data", "review")
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
    entry = PilotTownship.objects.filter(township_id=OuterRef("code")).order_by("batch__year")
    town = (
        Division.objects.select_related("parent__parent__parent")
        .annotate(pilot_batch=Subquery(entry.values("batch__name")[:1]), pilot_year=Subquery(entry.values("batch__year")[:1]),
                  pilot_withdrawn_in=Subquery(entry.values("withdrawn_in")[:1]))
        .filter(code=code, level=Level.TOWNSHIP).first()
    )
    if town is None:
        raise Http404
    return town


def township_page(town: Division, f: Filters) -> dict:
    code = town.code
    results = list(
        # Only the points of the version the figures are judged by: a year a round judges by an
        # older version also holds the data points of both.
        PointResult.objects.filter(division_code=code, period=f.period, round_key__in=[0, f.round_key], point__target__framework=f.framework)
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
    # Only a submitted form: a draft is the team's own until the lead submits it (and a saved
    # draft then changes no page, so it gives no page a new token).
    judgments = list(
        Judgment.objects.filter(form__round_id=f.round_key, form__township_id=code, form__status=FormStatus.SUBMITTED)
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
        "target_names": dict(f.target_names),
        "framework": f.framework,
        # Last year's figures beside these were judged by another version (only if there are any).
        "previous_framework": f.previous_framework if any(r.previous_value is not None for r in results) else None,
    }
