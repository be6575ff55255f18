"""The workflow through the API, under the same jurisdiction rule as the pages: lists and objects
come from the area selectors (outside the area: 404), every change goes through one service and
a refusal is a 400 with the service's message, changing nothing."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from evaluation.models import Round
from townships.jurisdiction import jurisdiction_for
from townships.models import Role

from . import selectors
from .models import (
    Funding,
    GoodPractice,
    Notification,
    Plan,
    PlanDeadline,
    RectificationItem,
    RectificationStep,
    ReviewStep,
    SelfAssessment,
    SelfAssessmentItem,
    SupportMeasure,
)
from .services import cases, plans, rectification, review
from .services.common import NotInArea, WorkflowRefused
from .services.notifications import mark_read


def body(request) -> dict:
    """The request's fields as a mapping; a JSON array or scalar is a 400, not a crash."""
    if not hasattr(request.data, "get"):
        raise ValidationError({"detail": _("The request body must be a JSON object.")})
    return request.data


def refused(exc: WorkflowRefused) -> Response:
    if isinstance(exc, NotInArea):
        raise NotFound
    return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)


class MeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportMeasure
        fields = ["id", "township", "what", "owner", "budget", "due_on"]


class PlanSerializer(serializers.ModelSerializer):
    measures = MeasureSerializer(many=True, read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Plan
        fields = ["id", "unit", "unit_name", "year", "title", "summary", "status", "filed_at", "measures"]


class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = PlanSerializer
    filterset_fields = ["year", "status"]

    def get_queryset(self):
        return selectors.plans_in(jurisdiction_for(self.request)).prefetch_related("measures").order_by("-year", "unit_id")

    @action(detail=True, methods=["post"])
    def file(self, request, pk=None):
        try:
            plan = plans.file_plan(user=request.user, plan=self.get_object())
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(PlanSerializer(plan).data)


class DeadlineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlanDeadline
        fields = ["year", "level", "due_on"]


class DeadlineViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Deadlines are public to staff; provincial staff set them (an upsert by year and level)."""

    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error

    serializer_class = DeadlineSerializer
    queryset = PlanDeadline.objects.order_by("-year", "level")

    def create(self, request, *args, **kwargs):
        data = DeadlineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            deadline = plans.set_deadline(user=request.user, **data.validated_data)
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(DeadlineSerializer(deadline).data, status=status.HTTP_201_CREATED)


class ItemSerializer(serializers.ModelSerializer):
    point = serializers.CharField(source="point.code")

    class Meta:
        model = SelfAssessmentItem
        fields = ["point", "level", "comment"]


class ReviewStepSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")

    class Meta:
        model = ReviewStep
        fields = ["action", "level", "user", "reason", "points", "at"]


class AssessmentSerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True, read_only=True)
    steps = ReviewStepSerializer(many=True, read_only=True)

    class Meta:
        model = SelfAssessment
        fields = ["id", "round", "township", "status", "version", "items", "steps"]


class ReviewInput(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    points = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class OpenInput(serializers.Serializer):
    round = serializers.IntegerField()
    township = serializers.CharField()


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = AssessmentSerializer
    filterset_fields = ["round", "status"]

    def get_queryset(self):
        return selectors.assessments_in(jurisdiction_for(self.request)).prefetch_related("items__point", "steps__user").order_by("id")

    def _act(self, fn, **kwargs):
        try:
            a = fn(user=self.request.user, assessment=self.get_object(), **kwargs)
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(AssessmentSerializer(self.get_queryset().get(pk=a.pk)).data)

    @action(detail=False, methods=["post"], url_path="open")
    def open(self, request):
        data = OpenInput(data=request.data)
        data.is_valid(raise_exception=True)
        rnd = get_object_or_404(Round, pk=data.validated_data["round"])
        try:
            a = review.open_assessment(user=request.user, round=rnd, township_code=data.validated_data["township"])
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(AssessmentSerializer(a).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def save(self, request, pk=None):
        data = body(request)
        try:
            version = int(data.get("version", -1))
        except (TypeError, ValueError):
            version = -1
        answers = data.get("answers") or {}
        if not isinstance(answers, dict) or not all(isinstance(v, dict) for v in answers.values()):
            raise ValidationError({"answers": _("Give the answers as {point code: {level, comment}}.")})
        return self._act(review.save_self_assessment, version=version, answers=answers)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._act(review.submit_self_assessment)

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        self.get_object()  # "not found" outside the area comes before any complaint about the input
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        return self._act(review.review_self_assessment, **data.validated_data)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._act(review.reopen_self_assessment, reason=str(body(request).get("reason", "")))


class StepSerializer(serializers.ModelSerializer):
    # Escalation steps are taken by the daily job, not a person: null, and the schema says so.
    user = serializers.CharField(source="user.username", default=None, allow_null=True)

    class Meta:
        model = RectificationStep
        fields = ["action", "user", "note", "at"]


class RectificationSerializer(serializers.ModelSerializer):
    # A commitment made in a formal talk names no point.
    point = serializers.CharField(source="point.code", default=None, allow_null=True)
    owner_name = serializers.SerializerMethodField()
    steps = StepSerializer(many=True, read_only=True)
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = RectificationItem
        fields = ["id", "round", "township", "point", "stage", "problem", "owner", "owner_name", "owner_note", "due_on", "status", "escalation",
                  "measures", "recheck_verdict", "recheck_figure", "talk", "steps", "evidence"]

    def get_owner_name(self, item) -> str | None:
        return (item.owner.full_name or item.owner.get_username()) if item.owner_id else None

    def get_evidence(self, item) -> list[dict]:
        return [{"id": e.pk, "file_name": e.file_name, "url": f"/workflow/files/rectification/{e.pk}"} for e in item.evidence.all()]


class AssignInput(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    due_on = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RectificationViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = RectificationSerializer
    filterset_fields = ["round", "status", "escalation"]
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        return selectors.items_in(jurisdiction_for(self.request)).select_related("owner").prefetch_related("steps__user", "evidence").order_by("id")

    def _act(self, fn, **kwargs):
        try:
            item = fn(user=self.request.user, item=self.get_object(), **kwargs)
        except WorkflowRefused as exc:
            return refused(exc)
        item = item.item if hasattr(item, "item") else item
        return Response(RectificationSerializer(self.get_queryset().get(pk=item.pk)).data)

    @action(detail=True, methods=["post"])
    def evidence(self, request, pk=None):
        self.get_object()  # outside the area is "not found" before anything else is said
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": "请选择文件。"}, status=status.HTTP_400_BAD_REQUEST)
        return self._act(rectification.add_item_evidence, data=upload.read(10 * 1024 * 1024 + 1), file_name=upload.name)

    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        return self._act(rectification.answer_item, measures=str(body(request).get("measures", "")))

    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        return self._act(rectification.check_item, close=bool(body(request).get("close")), note=str(body(request).get("note", "")))

    @extend_schema(request=AssignInput)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        self.get_object()  # outside the area is "not found" before anything else is said
        data = AssignInput(data=body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        return self._act(rectification.assign_owner, owner_id=v["owner"], due_on=v.get("due_on"), note=v.get("note", ""))

    @extend_schema(request=NoteInput)
    @action(detail=True, methods=["post"], url_path="close-on-recheck")
    def close_on_recheck(self, request, pk=None):
        return self._act(rectification.close_on_recheck, note=str(body(request).get("note", "")))


class CaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = GoodPractice
        fields = ["id", "title", "theme", "unit", "school", "summary", "status", "submitted_at"]
        read_only_fields = ["unit", "status", "submitted_at", "school"]


class CaseInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    theme = serializers.CharField(max_length=12)
    summary = serializers.CharField()
    school_code = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")


class CaseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Published cases for everyone; submitted ones for their own area."""

    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error

    serializer_class = CaseSerializer
    filterset_fields = ["theme", "status"]

    def get_queryset(self):
        return (selectors.published_cases() | selectors.cases_in(jurisdiction_for(self.request))).distinct().order_by("-submitted_at")

    def create(self, request, *args, **kwargs):
        data = CaseInput(data=body(request))
        data.is_valid(raise_exception=True)
        try:
            case = cases.submit_case(user=request.user, **data.validated_data)
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(CaseSerializer(case).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        try:
            case = cases.review_case(user=request.user, case=self.get_object(), publish=bool(body(request).get("publish")), note=str(body(request).get("note", "")))
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(CaseSerializer(case).data)


class FundingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Funding
        fields = ["township", "year", "purpose", "provincial_planned", "provincial_spent", "local_planned", "local_spent"]


class FundingViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = FundingSerializer
    filterset_fields = ["year", "purpose"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Funding is the staff's business: inspectors are answered as the page answers them.
        if getattr(request.user, "role", None) == Role.INSPECTOR:
            raise NotFound

    def get_queryset(self):
        return jurisdiction_for(self.request).filter(Funding.objects.all(), "township").order_by("township_id", "year", "purpose")

    def create(self, request, *args, **kwargs):
        data = FundingInput(data=body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            row = plans.save_funding(user=request.user, township_code=v["township"], year=v["year"], purpose=v["purpose"],
                                     amounts={k: v.get(k) for k in FundingSerializer.Meta.fields[3:]})
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(FundingSerializer(row).data, status=status.HTTP_201_CREATED)


class FundingInput(serializers.Serializer):
    """What a county officer records (an upsert by township, year and purpose: no uniqueness check)."""

    township = serializers.CharField(max_length=12)
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    purpose = serializers.CharField(max_length=20)
    provincial_planned = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    provincial_spent = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    local_planned = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    local_spent = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at"]


class ReadInput(serializers.Serializer):
    """Which notifications to mark read (all unread when omitted)."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False, max_length=1000)


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Notification.objects.none()
        return Notification.objects.filter(user=self.request.user)

    @extend_schema(
        request=ReadInput,
        responses=inline_serializer("ReadResult", {"read": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"])
    def read(self, request):
        data = ReadInput(data=body(request))
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        count = mark_read(user=request.user, ids=ids)
        return Response({"read": count})

