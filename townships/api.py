"""Read-only API over the tree and schools, scoped like every other way in."""
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from .jurisdiction import jurisdiction_for
from .models import Division, School
from .selectors import schools_in


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
