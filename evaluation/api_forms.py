"""API for the framework (read), rounds, assignments, forms (draft, submit, return) and evidence —
for a future mobile client; scoped by the same jurisdiction rule (inspectors: their assignments)."""
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from evaluation.models import Assignment, Framework, InspectionForm, Judgment, ObservationPoint, Round, RoundTownship, Target
from evaluation.selectors import assignments_for, forms_for, visible_judgments
from evaluation.services.forms import FormRefused, add_evidence, return_form, save_draft, submit_form
from townships.jurisdiction import jurisdiction_for


class PointSerializer(serializers.ModelSerializer):
    class Meta:
        model = ObservationPoint
        exclude = ["id", "target", "order"]


class TargetSerializer(serializers.ModelSerializer):
    points = PointSerializer(many=True, read_only=True)

    class Meta:
        model = Target
        fields = ["number", "name", "name_en", "source_quote", "points"]


class FrameworkSerializer(serializers.ModelSerializer):
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = ["id", "version", "name", "source_document", "frozen", "targets"]


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = FrameworkSerializer
    queryset = Framework.objects.prefetch_related("targets__points")


class RoundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Round
        fields = ["id", "name", "period", "framework", "opens_on", "due_on"]


class RoundViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = RoundSerializer

    def get_queryset(self):
        # Rounds that touch the user's area (or assignments).
        jurisdiction = jurisdiction_for(self.request)
        touched = jurisdiction.filter(RoundTownship.objects.all(), "township").values("round_id")
        return Round.objects.filter(pk__in=touched).order_by("-period", "name")


class AssignmentSerializer(serializers.ModelSerializer):
    inspector = serializers.CharField(source="inspector.username")

    class Meta:
        model = Assignment
        fields = ["id", "round", "township", "inspector", "is_lead"]


class AssignmentViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = AssignmentSerializer

    def get_queryset(self):
        return assignments_for(jurisdiction_for(self.request))


class JudgmentSerializer(serializers.ModelSerializer):
    point = serializers.CharField(source="point.code")
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Judgment
        fields = ["id", "point", "level", "comment", "evidence"]

    def get_evidence(self, obj) -> list[dict]:
        return [{"id": e.pk, "file_name": e.file_name, "content_type": e.content_type, "size": e.size} for e in obj.evidence.all()]


class FormSerializer(serializers.ModelSerializer):
    judgments = JudgmentSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionForm
        fields = ["id", "round", "township", "status", "version", "submitted_at", "judgments"]


class SaveSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.DictField(child=serializers.CharField(allow_blank=True)))


class SavedSerializer(serializers.Serializer):
    """What a save or submit answers: the form's new state, not the whole form again (the client
    has it; re-rendering it would cost more than the write)."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class SubmitSerializer(serializers.Serializer):
    version = serializers.IntegerField()


class ReturnSerializer(serializers.Serializer):
    reason = serializers.CharField()


class EvidenceSerializer(serializers.Serializer):
    judgment = serializers.IntegerField()
    file = serializers.FileField()


class FormViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = FormSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        forms = forms_for(user=self.request.user, jurisdiction=jurisdiction_for(self.request))
        if self.action in ("save", "submit"):
            return forms  # the write reads what it needs itself
        # Judgments of a draft only for its team (README, "The seven targets and the inspectors' forms").
        judgments = visible_judgments(self.request.user).select_related("point").prefetch_related("evidence")
        return forms.prefetch_related(Prefetch("judgments", queryset=judgments))

    def _do(self, fn, *, whole: bool = True, **kwargs):
        try:
            form = fn(**kwargs)
        except FormRefused as e:
            return Response({"detail": e.message}, status=status.HTTP_409_CONFLICT)
        except InspectionForm.DoesNotExist:
            raise Http404 from None  # outside the user's forms: as missing
        if not whole:
            return Response(SavedSerializer(form).data)
        return Response(FormSerializer(self.get_queryset().get(pk=form.pk)).data)

    def _write_input(self, serializer_class, request):
        """The body of a save or submit, validated. The form is read (scoped, locked) by the
        write itself; only a malformed body reads it here first, so a form outside the user's
        forms is "not found" whatever was sent."""
        data = serializer_class(data=request.data)
        if not data.is_valid():
            self.get_object()
            raise serializers.ValidationError(data.errors)
        return data.validated_data

    @extend_schema(request=SaveSerializer, responses=SavedSerializer)
    @action(detail=True, methods=["post"], serializer_class=SaveSerializer)
    def save(self, request, pk=None):
        """Save a draft made from `version`; a stale version is refused (409) saying what changed."""
        data = self._write_input(SaveSerializer, request)
        return self._do(save_draft, whole=False, form=pk, jurisdiction=jurisdiction_for(request), user=request.user, version=data["version"], answers=data["answers"])

    @extend_schema(request=SubmitSerializer, responses=SavedSerializer)
    @action(detail=True, methods=["post"], serializer_class=SubmitSerializer)
    def submit(self, request, pk=None):
        data = self._write_input(SubmitSerializer, request)
        return self._do(submit_form, whole=False, form=pk, jurisdiction=jurisdiction_for(request), user=request.user, version=data["version"])

    @action(detail=True, methods=["post"], serializer_class=ReturnSerializer, url_path="return")
    def return_(self, request, pk=None):
        form = self.get_object()
        data = ReturnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._do(return_form, form=form, user=request.user, reason=data.validated_data["reason"])

    @action(detail=True, methods=["post"], serializer_class=EvidenceSerializer, parser_classes=[MultiPartParser])
    def evidence(self, request, pk=None):
        form = self.get_object()
        data = EvidenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        judgment = get_object_or_404(form.judgments, pk=data.validated_data["judgment"])
        upload = data.validated_data["file"]
        try:
            add_evidence(judgment=judgment, user=request.user, data=upload.read(), file_name=upload.name)
        except FormRefused as e:
            return Response({"detail": e.message}, status=status.HTTP_400_BAD_REQUEST)
        return Response(FormSerializer(self.get_queryset().get(pk=form.pk)).data, status=status.HTTP_201_CREATED)
