"""API for field verification (实地核查): samples (province draws), the sampled items (inspectors
record the value found on site with evidence) and data-quality findings; the same area rule."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from evaluation.models import DataQualityFinding, Round, RoundTownship, VerificationItem, VerificationSample
from evaluation.selectors import findings_for, verification_items_for
from evaluation.services.verification import VerificationRefused, draw_sample, record_verification
from townships.jurisdiction import jurisdiction_for


class VerificationSampleSerializer(serializers.ModelSerializer):
    drawn_by = serializers.CharField(source="drawn_by.username", read_only=True)

    class Meta:
        model = VerificationSample
        fields = ["id", "round", "seed", "per_township", "drawn_by", "drawn_at"]
        read_only_fields = fields


class VerificationDrawSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    seed = serializers.CharField(max_length=64)
    per_township = serializers.IntegerField(default=8, min_value=1, max_value=50)


class SampleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = VerificationSampleSerializer
    parser_classes = [JSONParser, FormParser]

    def get_queryset(self):
        # Samples of the rounds that touch the user's area (like the rounds themselves).
        touched = jurisdiction_for(self.request).filter(RoundTownship.objects.all(), "township").values("round_id")
        return VerificationSample.objects.filter(round_id__in=touched).select_related("drawn_by").order_by("-drawn_at")

    def get_serializer_class(self):
        return VerificationDrawSerializer if self.action == "create" else VerificationSampleSerializer

    @extend_schema(request=VerificationDrawSerializer, responses=VerificationSampleSerializer)
    def create(self, request):
        """Draw (or, while nothing is recorded, redraw) a round's sample: provincial staff only."""
        if not request.user.is_provincial:
            raise PermissionDenied
        data = VerificationDrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rnd = get_object_or_404(Round, pk=data.validated_data["round"])
        try:
            sample = draw_sample(round=rnd, user=request.user, seed=data.validated_data["seed"], per_township=data.validated_data["per_township"])
        except VerificationRefused as e:
            return Response({"detail": e.message}, status=status.HTTP_409_CONFLICT)
        return Response(VerificationSampleSerializer(sample).data, status=status.HTTP_201_CREATED)


class DataQualityFindingSerializer(serializers.ModelSerializer):
    school = serializers.CharField(source="item.school_id", read_only=True)

    class Meta:
        model = DataQualityFinding
        fields = ["id", "item", "township", "school", "field", "reported", "verified", "discrepancy", "tolerance", "found_at"]
        read_only_fields = fields


class VerificationItemSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="sample.round_id", read_only=True)
    school = serializers.CharField(source="school_id", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True, default=None)
    has_evidence = serializers.SerializerMethodField()
    finding = serializers.SerializerMethodField()

    class Meta:
        model = VerificationItem
        fields = ["id", "round", "township", "school", "period", "field", "reported", "weight", "verified", "discrepancy", "note",
                  "has_evidence", "recorded_by", "recorded_at", "finding"]
        read_only_fields = fields

    def get_has_evidence(self, obj) -> bool:
        return bool(obj.evidence_stored_as)

    def get_finding(self, obj) -> int | None:
        finding = getattr(obj, "finding", None) if hasattr(obj, "finding") else None
        return finding.pk if finding else None


class VerificationRecordSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="The value found on site (a number).")
    file = serializers.FileField(required=False, help_text="A photo of the register; needed the first time.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ItemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = VerificationItemSerializer
    filterset_fields = ["township", "field"]

    def get_queryset(self):
        return verification_items_for(user=self.request.user, jurisdiction=jurisdiction_for(self.request)).select_related("finding")

    @extend_schema(request=VerificationRecordSerializer, responses=VerificationItemSerializer)
    @action(detail=True, methods=["post"], serializer_class=VerificationRecordSerializer, parser_classes=[MultiPartParser, FormParser, JSONParser])
    def record(self, request, pk=None):
        """Record the value found on site; beyond the framework's tolerance it is a data-quality finding."""
        item = self.get_object()
        data = VerificationRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data.get("file")
        try:
            record_verification(item=item, user=request.user, value=data.validated_data["value"], file_data=upload.read() if upload else None,
                                file_name=upload.name if upload else "", note=data.validated_data["note"])
        except VerificationRefused as e:
            return Response({"detail": e.message}, status=status.HTTP_400_BAD_REQUEST)
        return Response(VerificationItemSerializer(self.get_queryset().get(pk=item.pk)).data)


class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = DataQualityFindingSerializer

    def get_queryset(self):
        return findings_for(user=self.request.user, jurisdiction=jurisdiction_for(self.request))
