"""The roll-up's results through the API, read-only and scoped like the pages: point, target,
township and area results (lists filtered by school year, round, stage, pilot batch and area,
paginated) and an area's scorecard (the dashboard's headline figures)."""
from __future__ import annotations

from django import forms
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from evaluation.figures import point_format
from evaluation.models import AreaResult, PointResult, TargetResult, TownshipResult
from evaluation.vocabulary import EvaluationStage, Verdict
from townships.jurisdiction import jurisdiction_for

from .selectors.filters import parse_filters
from .selectors.results import area_results_for, area_scorecard, in_pilot_batch, point_results_for, target_results_for, township_results_for

MAX_INT = 2**31 - 1


class IntegerFilter(filters.NumberFilter):
    # Whole numbers within the column's range: "1.5" or 10**30 is a clear 400, never an overflow.
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(*args, **kwargs)


class ResultFilter(filters.FilterSet):
    period = IntegerFilter(field_name="period", help_text="School year (2024 = 2024–2025).")
    round = IntegerFilter(field_name="round_key", help_text="Evaluation round id; 0 = school data only.")
    area = filters.CharFilter(method="filter_area", max_length=12, help_text="Division code prefix (a province, city, county or township).")
    batch = IntegerFilter(method="filter_batch", help_text="Pilot batch id: townships that were pilots of this batch in the row's school year.")

    def filter_area(self, queryset, name, value):
        return queryset.filter(division_code__startswith=value)

    def filter_batch(self, queryset, name, value):
        return queryset.filter(in_pilot_batch(value))


class PointResultFilter(ResultFilter):
    stage = filters.ChoiceFilter(field_name="stage", choices=EvaluationStage.choices)
    point = filters.CharFilter(field_name="point__code", max_length=10, help_text="Observation point code, e.g. 2.1.")
    target = IntegerFilter(field_name="point__target__number")
    verdict = filters.ChoiceFilter(field_name="verdict", choices=Verdict.choices)

    class Meta:
        model = PointResult
        fields = []


class TargetResultFilter(ResultFilter):
    target = IntegerFilter(field_name="target_number")
    verdict = filters.ChoiceFilter(field_name="verdict", choices=Verdict.choices)

    class Meta:
        model = TargetResult
        fields = []


class TownshipResultFilter(ResultFilter):
    all_seven = filters.BooleanFilter(field_name="all_seven")

    class Meta:
        model = TownshipResult
        fields = []


class AreaResultFilter(ResultFilter):
    stage = filters.ChoiceFilter(field_name="stage", choices=EvaluationStage.choices)
    target = IntegerFilter(field_name="target_number", help_text="Target number; 0 = all seven.")
    population = filters.CharFilter(field_name="population", max_length=20, help_text='"all", "pilots" or "batch:<id>".')
    level = filters.ChoiceFilter(method="filter_level", choices=[("province", "province"), ("city", "city"), ("county", "county")])

    def filter_batch(self, queryset, name, value):
        # An area's counts of one batch are their own rows (population "batch:<id>").
        return queryset.filter(population=f"batch:{value}")

    def filter_level(self, queryset, name, value):
        return queryset.filter(division_code__regex=r"^[0-9]{%d}$" % {"province": 2, "city": 4, "county": 6}[value])

    class Meta:
        model = AreaResult
        fields = []


class _Result(serializers.ModelSerializer):
    code = serializers.CharField(source="division_code")
    name = serializers.CharField(source="area_name", allow_null=True)
    round = serializers.IntegerField(source="round_key")


class PointResultSerializer(_Result):
    point = serializers.CharField(source="point.code")
    point_name = serializers.CharField(source="point.name")
    target = serializers.IntegerField(source="point.target.number")
    unit = serializers.SerializerMethodField(help_text="The unit written beside the number, as the pages write it.")
    scale = serializers.CharField(source="point.scale")
    decimals = serializers.IntegerField(source="point.decimals")
    value_text = serializers.SerializerMethodField(help_text="The value as the pages write it (31.7%, 14.2 台 per 100 students).")
    reference_text = serializers.SerializerMethodField()
    previous_text = serializers.SerializerMethodField()
    verdict_label = serializers.CharField(source="get_verdict_display")

    class Meta:
        model = PointResult
        # No id: a point result is named by its code, period, round, stage and point (its key).
        fields = ["code", "name", "period", "round", "stage", "point", "point_name", "target", "value", "reference", "previous_value",
                  "unit", "scale", "decimals", "value_text", "reference_text", "previous_text", "verdict", "verdict_label", "computed_at"]

    def get_unit(self, row) -> str:
        return point_format(row.point).unit_label

    def get_value_text(self, row) -> str:
        return point_format(row.point).text(row.value)

    def get_reference_text(self, row) -> str:
        return point_format(row.point).text(row.reference)

    def get_previous_text(self, row) -> str:
        return point_format(row.point).text(row.previous_value)


class TargetResultSerializer(_Result):
    target = serializers.IntegerField(source="target_number")
    target_name = serializers.CharField(allow_null=True)
    verdict_label = serializers.CharField(source="get_verdict_display")

    class Meta:
        model = TargetResult
        fields = ["id", "code", "name", "period", "round", "target", "target_name", "verdict", "verdict_label", "score", "vetoed", "computed_at"]


class TownshipResultSerializer(_Result):
    class Meta:
        model = TownshipResult
        fields = ["id", "code", "name", "period", "round", "targets_attained", "all_seven", "score", "computed_at"]


class AreaResultSerializer(_Result):
    target = serializers.IntegerField(source="target_number", help_text="0 = all seven.")
    target_name = serializers.SerializerMethodField()
    share = serializers.SerializerMethodField()

    class Meta:
        model = AreaResult
        fields = ["id", "code", "name", "period", "round", "population", "stage", "target", "target_name", "townships", "attained", "share", "computed_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_target_name(self, row):
        return row.target_name if row.target_number else _("all seven")

    @extend_schema_field({"type": "number", "nullable": True})
    def get_share(self, row):
        return round(row.attained / row.townships, 6) if row.townships else None


class _ScopedResults(viewsets.GenericViewSet):
    selector = None

    def get_queryset(self):
        return type(self).selector(jurisdiction_for(self.request))


class _ResultViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, _ScopedResults):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error


class PointResultViewSet(mixins.ListModelMixin, _ScopedResults):
    """Observation point results of the 乡镇 in your area, per school year, round and stage. A list
    only: a row is named by its code, period, round, stage and point, which the filters select."""

    serializer_class = PointResultSerializer
    filterset_class = PointResultFilter
    selector = staticmethod(point_results_for)


class TargetResultViewSet(_ResultViewSet):
    """Target verdicts and scores of the 乡镇 in your area."""

    serializer_class = TargetResultSerializer
    filterset_class = TargetResultFilter
    selector = staticmethod(target_results_for)


class TownshipResultViewSet(_ResultViewSet):
    """Targets attained, all seven and the score of each 乡镇 in your area."""

    serializer_class = TownshipResultSerializer
    filterset_class = TownshipResultFilter
    selector = staticmethod(township_results_for)


class AreaResultViewSet(_ResultViewSet):
    """Per county, city and province in your area: how many 乡镇 attain each target (0 = all seven)."""

    serializer_class = AreaResultSerializer
    filterset_class = AreaResultFilter
    selector = staticmethod(area_results_for)


SCORECARD = inline_serializer("Scorecard", fields={
    "area": serializers.CharField(), "name": serializers.CharField(), "period": serializers.IntegerField(allow_null=True),
    "round": serializers.IntegerField(), "population": serializers.CharField(), "stage": serializers.CharField(),
    "townships": serializers.IntegerField(), "attained": serializers.IntegerField(), "share": serializers.FloatField(),
    "goal": serializers.IntegerField(), "distance": serializers.IntegerField(), "goal_share": serializers.FloatField(), "deadline": serializers.IntegerField(),
    "targets": inline_serializer("ScorecardTarget", many=True, fields={
        "target": serializers.IntegerField(), "name": serializers.CharField(), "attained": serializers.IntegerField(),
        "share": serializers.FloatField(allow_null=True),
    }),
})


class ScorecardViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The programme goal for a province, city or county: 乡镇 attaining all seven targets against
    "half by the end of the 14th five-year plan", and each target's count — the dashboard's headline."""

    lookup_field = "code"
    lookup_value_regex = r"[0-9]+"
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        return AreaResult.objects.none()  # the schema's model; the figures come from the selector

    @extend_schema(responses=SCORECARD, parameters=[
        OpenApiParameter("period", int, description="School year (default: the latest with results)."),
        OpenApiParameter("round", int, description="Evaluation round id; 0 = school data only (default: the year's latest round)."),
        OpenApiParameter("population", str, description='"all", "pilots", "batch:<id>", or "approved" with a round.'),
        OpenApiParameter("stage", str, enum=list(EvaluationStage.values)),
    ])
    def retrieve(self, request, code=None):
        user = request.user
        if not (user.is_superuser or user.is_area_staff):  # the dashboards are staff pages
            raise Http404
        f = parse_filters(request.query_params, jurisdiction_for(request), area_code=code)
        return Response(area_scorecard(f))
