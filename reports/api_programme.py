"""API for 增值性评价 and the pilots against comparable 乡镇 (issue 19), scoped like the pages: a
list holds the user's area only; an area outside it (or not a province, city or county) is
"not found". Read-only, paginated (limit/offset)."""
from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets

from evaluation.models import ValueAdded
from evaluation.vocabulary import EvaluationStage
from townships.jurisdiction import jurisdiction_for

from .selectors import parse_filters


class ValueAddedSerializer(serializers.ModelSerializer):
    point = serializers.CharField(source="point.code", read_only=True)
    point_name = serializers.CharField(source="point.name", read_only=True)
    level = serializers.SerializerMethodField()

    class Meta:
        model = ValueAdded
        fields = ["division_code", "school_code", "level", "point", "point_name", "period", "stage", "students", "previous", "actual",
                  "expected", "value_added", "lower", "upper", "verdict", "schools_fitted"]
        read_only_fields = fields

    def get_level(self, obj) -> str:
        return "school" if obj.school_code else "township"


class ValueAddedFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter()
    stage = django_filters.ChoiceFilter(choices=[c for c in EvaluationStage.choices if c[0] != EvaluationStage.ALL])
    point = django_filters.CharFilter(field_name="point__code")
    area = django_filters.CharFilter(method="in_area", help_text="A division code: rows of the 乡镇 under it.")
    level = django_filters.ChoiceFilter(choices=[("township", "township"), ("school", "school")], method="at_level")
    verdict = django_filters.ChoiceFilter(choices=ValueAdded._meta.get_field("verdict").choices)

    class Meta:
        model = ValueAdded
        fields = ["period", "stage", "point", "area", "level", "verdict"]

    def in_area(self, queryset, name, value):
        return queryset.filter(division_code__startswith=value)

    def at_level(self, queryset, name, value):
        return queryset.filter(school_code="") if value == "township" else queryset.exclude(school_code="")


class ValueAddedViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Value-added of 乡镇 and seat schools: actual against the value expected from their own last
    year (a province-wide WLS line per point, stage and year), with its 95 % interval."""

    serializer_class = ValueAddedSerializer
    filterset_class = ValueAddedFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ValueAdded.objects.none()
        qs = ValueAdded.objects.select_related("point")
        return jurisdiction_for(self.request).filter(qs, "division_code").order_by("period", "point_id", "stage", "division_code", "school_code")


class PilotComparisonRowSerializer(serializers.Serializer):
    batch = serializers.IntegerField()
    batch_year = serializers.IntegerField()
    batch_name = serializers.CharField()
    period = serializers.IntegerField()
    group = serializers.ChoiceField(choices=["pilots", "same_counties", "matched"])
    group_size = serializers.IntegerField(help_text="乡镇 in the group (the matched group counts one per pilot).")
    townships = serializers.IntegerField(help_text="乡镇 of the group with results that year.")
    shares = serializers.ListField(child=serializers.FloatField(allow_null=True), help_text="Share attaining targets 1–7, then all seven.")
    did = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True,
                                help_text="Difference-in-differences against this group, in percentage points (none for the pilots).")


AREA_PARAMETERS = [
    OpenApiParameter("area", OpenApiTypes.STR, description="Province, city or county code (default: the user's unit)."),
    OpenApiParameter("period", OpenApiTypes.INT, description="School year shown (default: the latest)."),
    OpenApiParameter("round", OpenApiTypes.INT, description="0: school data only; otherwise each year's latest round."),
]


class PilotComparisonViewSet(viewsets.GenericViewSet):
    """Each pilot batch against the same counties' non-pilots and a matched group, year by year."""

    serializer_class = PilotComparisonRowSerializer

    def get_queryset(self):  # the rows are computed, not a model's: nothing to list for the schema
        return ValueAdded.objects.none()

    @extend_schema(parameters=AREA_PARAMETERS)
    def list(self, request):
        from .selectors.programme import pilot_comparison

        f = parse_filters(request.query_params, jurisdiction_for(request), populations=False)
        rows = []
        for c in pilot_comparison(f):
            for period in c.years:
                for group in ("pilots", "same_counties", "matched"):
                    gy = c.groups[group][period]
                    rows.append({"batch": c.batch.pk, "batch_year": c.batch.year, "batch_name": c.batch.name, "period": period, "group": group,
                                 "group_size": c.sizes[group], "townships": gy.townships, "shares": gy.shares,
                                 "did": c.did[group][period] if group in c.did else None})
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
