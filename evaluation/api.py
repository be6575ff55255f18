"""API for uploads (preview, commit, history) and the stored school-year data, scoped like the pages."""
from django.conf import settings
from django.shortcuts import get_object_or_404
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from evaluation.imports.service import ImportRefused, commit_import, import_file
from evaluation.models import ImportRun, SchoolYear
from evaluation.selectors import import_runs_for, school_years_for
from townships.jurisdiction import jurisdiction_for


class ImportRunSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)

    class Meta:
        model = ImportRun
        fields = ["id", "created_at", "uploaded_by", "channel", "file_name", "sha256", "size", "status", "progress", "summary", "errors", "flags", "warnings", "message", "committed_at"]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(default=True)
    confirm_all = serializers.CharField(required=False, allow_blank=True, help_text="Confirm every implausible change with this reason.")

    def validate_file(self, f):
        if f.size > settings.IMPORT_MAX_BYTES:
            raise serializers.ValidationError("文件超过大小限制。")
        return f


class CommitSerializer(serializers.Serializer):
    confirmations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)


class ImportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = ImportRunSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ImportRun.objects.none()
        return import_runs_for(user=self.request.user, jurisdiction=jurisdiction_for(self.request))

    def _check_uploader(self):
        user = self.request.user
        if not user.can_upload:
            raise PermissionDenied

    def get_serializer_class(self):
        return UploadSerializer if self.action == "create" else ImportRunSerializer

    def create(self, request):
        """Upload a file: a dry run (the default) previews; otherwise it is committed if valid."""
        self._check_uploader()
        form = UploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        f = form.validated_data["file"]
        run = import_file(
            user=request.user,
            jurisdiction=jurisdiction_for(request),
            data=f.read(),
            file_name=f.name,
            channel="api",
            dry_run=form.validated_data["dry_run"],
            confirm_all=form.validated_data.get("confirm_all") or None,
        )
        code = status.HTTP_201_CREATED if run.status in ("previewed", "committed") else status.HTTP_422_UNPROCESSABLE_ENTITY
        return Response(ImportRunSerializer(run).data, status=code)

    @action(detail=True, methods=["post"], serializer_class=CommitSerializer, parser_classes=[JSONParser, FormParser])
    def commit(self, request, pk=None):
        """Commit a previewed upload, with a reason for each implausible change (flag id → reason)."""
        self._check_uploader()
        run = get_object_or_404(self.get_queryset(), pk=pk)
        form = CommitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            run = commit_import(run=run, user=request.user, jurisdiction=jurisdiction_for(request), confirmations=form.validated_data["confirmations"])
        except ImportRefused as e:
            run.refresh_from_db()
            return Response({"detail": e.message, **ImportRunSerializer(run).data}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(ImportRunSerializer(run).data)


class SchoolYearSerializer(serializers.ModelSerializer):
    school = serializers.CharField(source="school.code", read_only=True)

    class Meta:
        model = SchoolYear
        exclude = ["id", "updated_by_import"]


class SchoolYearViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"[0-9]+"  # a non-numeric id is "not found", never a server error
    serializer_class = SchoolYearSerializer
    filterset_fields = ["period"]

    def get_queryset(self):
        jurisdiction = jurisdiction_for(self.request)
        # The school's township equals the year's (denormalised, manage.py integrity_check): the
        # same scope said of the school as well lets PostgreSQL start from the area's schools
        # rather than walk every school in code order looking for the first page (a county's
        # first 50: 97 ms → 6 ms on Shandong).
        return jurisdiction.filter(school_years_for(jurisdiction), "school__township").order_by("school__code", "period")
