"""增值性评价 on the pages: a 乡镇's value-added (and its seat schools'), and the 乡镇 of a county
or city ranked by it for one point — read off `ValueAdded`, always inside the filters' area."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, Case, CharField, Count, Exists, OuterRef, Q, Subquery, Sum, Value, When

from evaluation.models import HelpKind, HelpRelation, ValueAdded, ValueAddedVerdict
from evaluation.rollup.scope import prefix_range
from evaluation.rollup.value_added import continuous_points_for_period

from .filters import Filters, stage_labels


def value_added_points(f: Filters) -> list:
    """The points value-added is computed for, in the version in force for the year."""
    return continuous_points_for_period(f.period) if f.period is not None else []


def _decorate(rows, points_by_id: dict) -> list:
    labels = stage_labels()
    verdicts = dict(ValueAddedVerdict.choices)
    for r in rows:
        r.point_obj = points_by_id.get(r.point_id)
        r.stage_label = labels.get(r.stage, r.stage)
        r.verdict_label = str(verdicts.get(r.verdict, r.verdict))
    return [r for r in rows if r.point_obj is not None]


def township_value_added(code: str, f: Filters) -> dict:
    """The 乡镇's rows (one per point and stage) and its seat schools', for the page's year and stage."""
    if f.period is None:
        return {"rows": [], "schools": []}
    # The rows name their points (those of the version in force for the year): one query.
    qs = ValueAdded.objects.filter(division_code=code, period=f.period).select_related("point")
    if f.stage != "all":
        qs = qs.filter(stage=f.stage)
    rows = list(qs.order_by("point__target__number", "point__order", "point__code", "stage", "school_code"))
    rows = _decorate(rows, {r.point_id: r.point for r in rows})
    return {"rows": [r for r in rows if not r.school_code], "schools": [r for r in rows if r.school_code]}


@dataclass
class RankingChoice:
    point: object | None
    stage: str
    points: list
    stages: list


def ranking_choice(f: Filters, params) -> RankingChoice:
    """The point (by code, `va_point`) and stage (`va_stage`, else the page's stage) ranked; by
    default the first point and its first stage."""
    points = value_added_points(f)
    point = next((p for p in points if p.code == params.get("va_point")), points[0] if points else None)
    stages = point.stage_list if point else []
    wanted = params.get("va_stage") or (f.stage if f.stage != "all" else "")
    stage = wanted if wanted in stages else (stages[0] if stages else "")
    return RankingChoice(point=point, stage=stage, points=points, stages=stages)


def value_added_ranking(f: Filters, choice: RankingChoice) -> list:
    """The area's 乡镇 by value-added of one point and stage, highest first (one query)."""
    if choice.point is None or f.period is None:
        return []
    from townships.models import Division

    rng = prefix_range(f.area.code)
    name = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
    rows = list(ValueAdded.objects.filter(period=f.period, point_id=choice.point.pk, stage=choice.stage, school_code="",
                                          division_code__gte=rng["lo"], division_code__lt=rng["hi"])
                .annotate(name=Subquery(name)).order_by("-value_added", "division_code"))
    _decorate(rows, {choice.point.pk: choice.point})
    for rank, r in enumerate(rows, start=1):
        r.rank, r.name = rank, r.name or r.division_code
    return rows


def ranking_and_helped(f: Filters, choice: RankingChoice) -> tuple[list, list[dict]]:
    """`value_added_ranking` and `helped_comparison` from one read: both are the area's rows of
    the chosen point and stage — the 乡镇's ranked, the seat schools' counted by whether they
    received help this year (a few hundred rows at most: the seat schools of a city)."""
    if choice.point is None or f.period is None:
        return [], []
    from townships.models import Division, School

    rng = prefix_range(f.area.code)
    name = Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
    helped = Exists(School.objects.filter(code=OuterRef("school_code"), helps_received__period=f.period))
    rows = list(ValueAdded.objects.filter(period=f.period, point_id=choice.point.pk, stage=choice.stage,
                                          division_code__gte=rng["lo"], division_code__lt=rng["hi"])
                .annotate(name=Case(When(school_code="", then=Subquery(name)), default=Value(None), output_field=CharField()),
                          helped=Case(When(school_code="", then=Value(False)), default=helped, output_field=BooleanField()))
                .order_by("-value_added", "division_code", "school_code"))
    ranking = _decorate([r for r in rows if not r.school_code], {choice.point.pk: choice.point})
    for rank, r in enumerate(ranking, start=1):
        r.rank, r.name = rank, r.name or r.division_code
    out = []
    for key, wanted in (("helped", True), ("other", False)):
        group = [r for r in rows if r.school_code and r.helped is wanted]
        n = len(group)
        out.append({"group": key, "schools": n, "mean": (sum(r.value_added for r in group) / n) if n else None,
                    "above": sum(1 for r in group if r.verdict == ValueAddedVerdict.ABOVE)})
    return ranking, out


HELP_ORDER = [HelpKind.GROUP, HelpKind.ALLIANCE, HelpKind.PAIRING, HelpKind.TRUSTEESHIP, HelpKind.RESEARCHER]


def help_counts(f: Filters, width: int, names: dict[str, str]) -> dict:
    """Help relations of the year by kind, per child area (`width`: 4 cities, 6 counties; `names`:
    their names, which the dashboard has read already) — one grouped query."""
    if f.period is None:
        return {"kinds": [], "rows": []}
    from django.db.models.functions import Substr

    rng = prefix_range(f.area.code)
    grouped = (HelpRelation.objects.filter(period=f.period, township_id__gte=rng["lo"], township_id__lt=rng["hi"])
               .annotate(area=Substr("township_id", 1, width)).values("area", "kind")
               .annotate(relations=Count("id")).order_by("area"))
    table: dict[str, dict] = {}
    for g in grouped:
        table.setdefault(g["area"], {})[g["kind"]] = g["relations"]
    labels = dict(HelpKind.choices)
    rows = [{"code": code, "name": names.get(code, code), "counts": [table[code].get(k, 0) for k in HELP_ORDER],
             "total": sum(table[code].values())} for code in sorted(table)]
    return {"kinds": [str(labels[k]) for k in HELP_ORDER], "rows": rows,
            "totals": [sum(r["counts"][i] for r in rows) for i in range(len(HELP_ORDER))]}


def helped_comparison(f: Filters, choice: RankingChoice) -> list[dict]:
    """Mean value-added of the area's seat schools that received help this year against the others,
    for the chosen point and stage: the mean of each group, its number of schools and how many are significantly above expected."""
    if choice.point is None or f.period is None:
        return []
    from townships.models import School

    rng = prefix_range(f.area.code)
    helped = School.objects.filter(helps_received__period=f.period).values("code")
    base = ValueAdded.objects.filter(period=f.period, point_id=choice.point.pk, stage=choice.stage,
                                     division_code__gte=rng["lo"], division_code__lt=rng["hi"]).exclude(school_code="")
    out = []
    agg = base.aggregate(
        n_helped=Count("id", filter=Q(school_code__in=helped)), n_other=Count("id", filter=~Q(school_code__in=helped)),
        sum_helped=Sum("value_added", filter=Q(school_code__in=helped)), sum_other=Sum("value_added", filter=~Q(school_code__in=helped)),
        above_helped=Count("id", filter=Q(school_code__in=helped, verdict=ValueAddedVerdict.ABOVE)),
        above_other=Count("id", filter=~Q(school_code__in=helped) & Q(verdict=ValueAddedVerdict.ABOVE)),
    )
    for key in ("helped", "other"):
        n = agg[f"n_{key}"]
        out.append({"group": key, "schools": n, "mean": (agg[f"sum_{key}"] / n) if n else None, "above": agg[f"above_{key}"]})
    return out
