"""Point results carry no foreign-key constraint in the database (the roll-up's bulk write paid
for one check per row at commit); integrity_check finds a result whose point does not exist, and
deleting a point still deletes its results."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from evaluation.models import ObservationPoint, PointResult
from evaluation.services.framework import load_framework

pytestmark = pytest.mark.django_db


def test_integrity_check_reports_a_result_without_its_point(geography):
    load_framework()
    point = ObservationPoint.objects.order_by("pk").first()
    PointResult.objects.create(division_code="370881109", point=point, period=2024, stage="all", verdict="attained")
    call_command("integrity_check", stdout=None)
    missing = ObservationPoint.objects.order_by("-pk").first().pk + 1000
    PointResult.objects.create(division_code="370881109", point_id=missing, period=2024, stage="primary", verdict="attained")
    with pytest.raises(CommandError, match="1 条指标结果的观测点不存在"):
        call_command("integrity_check")


def test_deleting_a_point_deletes_its_results(geography):
    load_framework()
    point = ObservationPoint.objects.order_by("pk").first()
    PointResult.objects.create(division_code="370881109", point=point, period=2024, stage="all", verdict="attained")
    point.delete()
    assert not PointResult.objects.exists()
