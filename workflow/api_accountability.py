"""The API of 通报, 约谈 and 问责: the same area rule as the pages (another area's record is "not
found"), the same services, a refusal as a 400 with the Chinese reason and nothing written."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from townships.jurisdiction import jurisdiction_for
from townships.models import Role

from . import selectors
from .api import body, refused
from .models import AcceptanceOutcome, Accountability, Notice, PilotAcceptance, Talk
from .services import accountability
from .services.acceptance import record_acceptance
from .services.common import WorkflowRefused


def ids():
    # A new field each time: one instance declared under several names binds to the last only.
    return serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**31 - 1), required=False, default=list, max_length=500)


class NoticeSerializer(serializers.ModelSerializer):
    counties = serializers.SerializerMethodField()
    items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    pdf = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "number", "year", "sequence", "title", "body", "issued_on", "counties", "items", "pdf", "created_at"]

    def get_counties(self, notice) -> list[str]:
        return [n.county_id for n in notice.named.all()]

    def get_pdf(self, notice) -> str:
        return f"/workflow/notices/{notice.pk}/pdf"


class NoticeInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField()
    counties = serializers.ListField(child=serializers.CharField(max_length=12), min_length=1, max_length=200)
    items = ids()
    issued_on = serializers.DateField(required=False)


class StaffOnly:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Inspectors are answered as the pages answer them.
        if getattr(request.user, "role", None) == Role.INSPECTOR:
            raise NotFound


class NoticeViewSet(StaffOnly, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Notices (通报) naming a county of the area; provincial staff issue them."""

    lookup_value_regex = r"[0-9]+"
    serializer_class = NoticeSerializer
    filterset_fields = ["year"]

    def get_queryset(self):
        return selectors.notices_in(jurisdiction_for(self.request)).prefetch_related("items").order_by("-year", "-sequence")

    @extend_schema(request=NoticeInput, responses={201: NoticeSerializer})
    def create(self, request, *args, **kwargs):
        data = NoticeInput(data=body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            notice = accountability.issue_notice(user=request.user, title=v["title"], body=v["body"], county_codes=v["counties"], item_ids=v["items"],
                                                 issued_on=v.get("issued_on"))
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(NoticeSerializer(Notice.objects.prefetch_related("named", "items").get(pk=notice.pk)).data, status=status.HTTP_201_CREATED)


class CommitmentInput(serializers.Serializer):
    township = serializers.CharField(max_length=12)
    what = serializers.CharField(max_length=2000)
    due_on = serializers.DateField()


class TalkSerializer(serializers.ModelSerializer):
    items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    commitments = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Talk
        fields = ["id", "county", "held_on", "talked_to", "minutes", "notice", "items", "commitments", "created_at"]


class TalkInput(serializers.Serializer):
    county = serializers.CharField(max_length=12)
    held_on = serializers.DateField()
    talked_to = serializers.CharField(max_length=200)
    minutes = serializers.CharField()
    notice = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
    items = ids()
    commitments = CommitmentInput(many=True, required=False, default=list)


class TalkViewSet(StaffOnly, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Formal talks (约谈) with counties of the area; the province or the county's city records them."""

    lookup_value_regex = r"[0-9]+"
    serializer_class = TalkSerializer

    def get_queryset(self):
        return selectors.talks_in(jurisdiction_for(self.request)).prefetch_related("items", "commitments").order_by("-held_on", "-id")

    @extend_schema(request=TalkInput, responses={201: TalkSerializer})
    def create(self, request, *args, **kwargs):
        data = TalkInput(data=body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            talk = accountability.record_talk(user=request.user, county_code=v["county"], held_on=v["held_on"], talked_to=v["talked_to"], minutes=v["minutes"],
                                              notice_id=v.get("notice"), item_ids=v["items"], commitments=v["commitments"])
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(TalkSerializer(self.get_queryset().get(pk=talk.pk)).data, status=status.HTTP_201_CREATED)


class DecisionSerializer(serializers.ModelSerializer):
    notices = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    talks = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    items = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Accountability
        fields = ["id", "county", "decided_on", "decision", "basis", "notices", "talks", "items", "created_at"]


class DecisionInput(serializers.Serializer):
    county = serializers.CharField(max_length=12)
    decided_on = serializers.DateField()
    decision = serializers.CharField()
    basis = serializers.CharField()
    notices = ids()
    talks = ids()
    items = ids()


class AccountabilityViewSet(StaffOnly, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Accountability decisions (问责) on counties of the area; provincial staff record them."""

    lookup_value_regex = r"[0-9]+"
    serializer_class = DecisionSerializer

    def get_queryset(self):
        return selectors.decisions_in(jurisdiction_for(self.request)).prefetch_related("notices", "talks", "items").order_by("-decided_on", "-id")

    @extend_schema(request=DecisionInput, responses={201: DecisionSerializer})
    def create(self, request, *args, **kwargs):
        data = DecisionInput(data=body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            decided = accountability.decide_accountability(user=request.user, county_code=v["county"], decided_on=v["decided_on"], decision=v["decision"],
                                                           basis=v["basis"], notice_ids=v["notices"], talk_ids=v["talks"], item_ids=v["items"])
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(DecisionSerializer(self.get_queryset().get(pk=decided.pk)).data, status=status.HTTP_201_CREATED)


class AcceptanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = PilotAcceptance
        fields = ["id", "pilot", "township", "outcome", "round", "extended_until", "note", "decided_at"]


class AcceptanceInput(serializers.Serializer):
    pilot = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    outcome = serializers.ChoiceField(choices=AcceptanceOutcome.choices)
    round = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    note = serializers.CharField()
    extended_until = serializers.IntegerField(min_value=2000, max_value=2100, required=False, allow_null=True)


class PilotAcceptanceViewSet(StaffOnly, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pilot acceptance decisions (验收) in the area; provincial staff record them."""

    lookup_value_regex = r"[0-9]+"
    serializer_class = AcceptanceSerializer
    filterset_fields = ["outcome"]

    def get_queryset(self):
        return jurisdiction_for(self.request).filter(PilotAcceptance.objects.all(), "township").order_by("-decided_at", "-id")

    @extend_schema(request=AcceptanceInput, responses={201: AcceptanceSerializer})
    def create(self, request, *args, **kwargs):
        data = AcceptanceInput(data=body(request))
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            decided = record_acceptance(user=request.user, pilot_id=v["pilot"], outcome=v["outcome"], round_id=v["round"], note=v["note"],
                                        extended_until=v.get("extended_until"))
        except WorkflowRefused as exc:
            return refused(exc)
        return Response(AcceptanceSerializer(decided).data, status=status.HTTP_201_CREATED)
