"""API over the tree, schools and the units' accounts, scoped like every other way in."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from .jurisdiction import jurisdiction_for
from .models import Division, School, User
from .selectors import schools_in
from .services.accounts import accounts_in_area, create_accounts, may_manage_accounts, set_accounts_active


class DivisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Division
        fields = ["code", "name", "level", "parent", "kind"]


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["code", "name", "stage", "township", "is_seat", "is_urban", "is_urban_quality", "is_demo"]


class DivisionFilter(filters.FilterSet):
    parent = filters.CharFilter(field_name="parent_id")

    class Meta:
        model = Division
        fields = ["level", "kind", "parent"]


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DivisionSerializer
    filterset_class = DivisionFilter
    lookup_field = "code"

    def get_queryset(self):
        return jurisdiction_for(self.request).filter(Division.objects.all(), "code")


class SchoolViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SchoolSerializer
    filterset_fields = ["stage", "is_seat", "is_urban", "is_urban_quality"]
    lookup_field = "code"

    def get_queryset(self):
        return schools_in(jurisdiction_for(self.request)).order_by("code")


class AccountSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, default="")

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "phone", "role", "unit", "unit_name", "is_active", "must_change_password", "last_login"]
        read_only_fields = fields


class AccountUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The accounts spreadsheet (登录名, 姓名, 手机号码, 角色, 单位代码).")


class AccountFilter(filters.FilterSet):
    unit = filters.CharFilter(field_name="unit_id")

    class Meta:
        model = User
        fields = ["unit", "role", "is_active"]


class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Accounts of the units in the caller's area (provincial and city staff). POST a spreadsheet
    to create accounts all or nothing: the answer carries each one-time password, once."""

    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not may_manage_accounts(self.request.user):
            return User.objects.none()
        return accounts_in_area(jurisdiction=jurisdiction_for(self.request))

    @extend_schema(request={"multipart/form-data": AccountUploadSerializer}, responses={201: dict, 400: dict})
    def create(self, request):
        if not may_manage_accounts(request.user):
            raise PermissionDenied
        upload = AccountUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        result = create_accounts(actor=request.user, jurisdiction=jurisdiction_for(request), data=upload.validated_data["file"].read())
        if not result.ok:
            return Response({"errors": result.errors}, status=status.HTTP_400_BAD_REQUEST)
        response = Response({"accounts": [vars(a) for a in result.issued]}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def _set_active(self, request, active: bool):
        account = self.get_object()
        try:
            set_accounts_active(actor=request.user, jurisdiction=jurisdiction_for(request), user_ids=[account.pk], active=active)
        except DjangoValidationError as exc:
            return Response({"errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        account.refresh_from_db()
        return Response(self.get_serializer(account).data)

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return self._set_active(request, False)

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._set_active(request, True)
