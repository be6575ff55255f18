"""The roll-up's result tables as the API serves them: every row inside the jurisdiction, with
the names the pages show (the area's, the target's in the framework version that judged the row)
joined in SQL — one query per page of rows, whatever its length — and the scorecard of an area
read through the dashboard's own selector, so the API's figures are the dashboard's."""
from __future__ import annotations

from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from evaluation.models import AreaResult, Framework, PointResult, Round, Target, TargetResult, TownshipResult
from townships.jurisdiction import Jurisdiction
from townships.models import Division, PilotTownship

from .areas import _approved_rows, _area_rows, scorecard
from .filters import APPROVED, TARGET_NUMBERS, Filters


def _named(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(area_name=Subquery(Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]))


def _framework_of_row():
    """The framework version a row was judged by, as the roll-up chose it (evaluation.rollup.scope
    frameworks_by_round): the round's own, or for school data alone the version in force that year."""
    in_force = Framework.objects.filter(applies_from__lte=OuterRef("period")).order_by("-applies_from", "-created_at", "-id").values("id")[:1]
    first = Framework.objects.order_by("applies_from", "created_at", "id").values("id")[:1]
    of_round = Round.objects.filter(pk=OuterRef("round_key")).values("framework_id")[:1]
    return Coalesce(Subquery(of_round), Subquery(in_force), Subquery(first), output_field=BigIntegerField())


def _with_target_names(queryset: QuerySet) -> QuerySet:
    queryset = queryset.annotate(framework_ref=_framework_of_row())
    return queryset.annotate(target_name=Subquery(Target.objects.filter(framework_id=OuterRef("framework_ref"), number=OuterRef("target_number")).values("name")[:1]))


def in_pilot_batch(batch_id: int) -> Exists:
    """The row's 乡镇 was a pilot of the batch in the row's school year (a withdrawn pilot no
    longer counts from its year of withdrawal, as in the roll-up's populations)."""
    return Exists(
        PilotTownship.objects.filter(batch_id=batch_id, township_id=OuterRef("division_code"), batch__year__lte=OuterRef("period"))
        .filter(Q(withdrawn_in__isnull=True) | Q(withdrawn_in__gt=OuterRef("period")))
    )


def point_results_for(jurisdiction: Jurisdiction) -> QuerySet:
    rows = jurisdiction.filter(PointResult.objects.all(), "division_code").select_related("point__target")
    return _named(rows).order_by("division_code", "period", "round_key", "point__target__number", "point__order", "point__code", "stage", "point_id")


def target_results_for(jurisdiction: Jurisdiction) -> QuerySet:
    rows = jurisdiction.filter(TargetResult.objects.all(), "division_code")
    return _with_target_names(_named(rows)).order_by("division_code", "period", "round_key", "target_number", "pk")


def township_results_for(jurisdiction: Jurisdiction) -> QuerySet:
    rows = jurisdiction.filter(TownshipResult.objects.all(), "division_code")
    return _named(rows).order_by("division_code", "period", "round_key", "pk")


def area_results_for(jurisdiction: Jurisdiction) -> QuerySet:
    rows = jurisdiction.filter(AreaResult.objects.all(), "division_code")
    return _with_target_names(_named(rows)).order_by("division_code", "period", "round_key", "population", "stage", "target_number", "pk")


def area_scorecard(f: Filters) -> dict:
    """The programme goal and the seven targets of one area, exactly as its dashboard's headline
    computes them (the same rows, the same `scorecard`)."""
    codes = [(f.area.code, f.area.name)]
    rows, _populations = _approved_rows(codes, f) if f.population == APPROVED else _area_rows(codes, f)
    total = rows[f.area.code]
    names = dict(f.target_names)
    return {
        "area": f.area.code, "name": f.area.name, "period": f.period, "round": f.round_key, "population": f.population, "stage": f.stage,
        **scorecard(total),
        "targets": [{"target": n, "name": names.get(n, ""), "attained": total.attained.get(n, 0), "share": total.share(n)} for n in TARGET_NUMBERS],
    }
