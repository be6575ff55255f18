"""Surveys through the API, under the same area rule as the pages: windows of the user's area
(outside: 404) with their rates; counts, results by school and item for the county only."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from townships.jurisdiction import jurisdiction_for

from . import selectors
from .models import Item, Questionnaire, SurveyWindow
from .services import counting


class QuestionItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["number", "text", "kind", "counts"]


class QuestionnaireSerializer(serializers.ModelSerializer):
    items = QuestionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Questionnaire
        fields = ["id", "code", "version", "title", "audience", "stages", "scale", "satisfied_choices", "rule", "portal_default", "frozen", "items"]


class QuestionnaireViewSet(viewsets.ReadOnlyModelViewSet):
    """The questionnaires (the province's; every user may read them)."""

    serializer_class = QuestionnaireSerializer
    queryset = Questionnaire.objects.prefetch_related("items").order_by("code", "-version")


class WindowSerializer(serializers.ModelSerializer):
    township_name = serializers.CharField(source="township.name", read_only=True)
    response_rate = serializers.SerializerMethodField()
    satisfaction_rate = serializers.SerializerMethodField()

    class Meta:
        model = SurveyWindow
        fields = ["id", "township", "township_name", "questionnaire", "period", "opens_at", "closes_at", "response_rate", "satisfaction_rate"]

    def _total(self, obj) -> counting.SchoolCount:
        return self.context["totals"].get(obj.pk, counting.SchoolCount(0))

    def get_response_rate(self, obj) -> float | None:
        return self._total(obj).response_rate

    def get_satisfaction_rate(self, obj) -> float | None:
        return self._total(obj).satisfaction_rate


class WindowViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WindowSerializer
    filterset_fields = ["period", "township"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return SurveyWindow.objects.none()
        return selectors.windows_in(user=self.request.user, jurisdiction=jurisdiction_for(self.request))

    def _serialize(self, windows, many: bool):
        context = {**self.get_serializer_context(), "totals": counting.window_totals(windows if many else [windows])}
        return self.get_serializer(windows, many=many, context=context).data

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._serialize(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._serialize(self.get_object(), many=False))

    @extend_schema(responses=inline_serializer("SurveyResults", {
        "issued": serializers.IntegerField(), "valid": serializers.IntegerField(), "satisfied": serializers.IntegerField(),
        "schools": serializers.ListField(child=serializers.DictField()), "items": serializers.ListField(child=serializers.DictField()),
    }))
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Counts by school and each question's answers by choice: the county's (404 for others)."""
        if not selectors.sees_details(request.user):
            raise NotFound
        window = self.get_object()
        total = counting.window_totals([window]).get(window.pk, counting.SchoolCount(0))
        schools = counting.school_counts([window])
        return Response({
            "issued": total.issued, "valid": total.valid, "satisfied": total.satisfied,
            "schools": [{"school": c.school_id, "issued": c.issued, "valid": c.valid, "satisfied": c.satisfied} for (_w, _s), c in sorted(schools.items())],
            "items": [{"number": r["item"].number, "total": r["total"], "choices": {c["choice"]: c["n"] for c in r["choices"]}}
                      for r in counting.item_distribution(window)],
        })
