"""Reads over the tree, always through a jurisdiction."""
from django.db.models import Count, Q, QuerySet

from .jurisdiction import Jurisdiction
from .models import PROGRAMME_KINDS, Division, Level, PilotBatch, PilotTownship, School


def schools_in(jurisdiction: Jurisdiction) -> QuerySet[School]:
    return jurisdiction.filter(School.objects.select_related("township__parent"), "township")


def townships_in(jurisdiction: Jurisdiction) -> QuerySet[Division]:
    return jurisdiction.filter(Division.objects.filter(level=Level.TOWNSHIP).select_related("parent"), "code")


def pilots_in(jurisdiction: Jurisdiction) -> QuerySet[PilotTownship]:
    return jurisdiction.filter(PilotTownship.objects.select_related("township__parent", "batch"), "township")


def area_summary(jurisdiction: Jurisdiction) -> dict:
    """Counts for the home page: 乡镇 of the programme, pilots per batch, schools (three queries)."""
    towns = townships_in(jurisdiction).aggregate(
        programme=Count("code", filter=Q(kind__in=PROGRAMME_KINDS)),
        subdistricts=Count("code", filter=Q(kind="subdistrict")),
        all=Count("code"),
    )
    schools = schools_in(jurisdiction).aggregate(
        all=Count("id"), seat=Count("id", filter=Q(is_seat=True)), urban=Count("id", filter=Q(is_urban=True))
    )
    batches = list(
        jurisdiction.filter(PilotBatch.objects.all(), "townships__township")
        .annotate(n=Count("townships"))
        .order_by("year", "name")
        .values("year", "name", "n", "is_demo")
    )
    return {"townships": towns, "schools": schools, "batches": batches}


def units_of(jurisdiction: Jurisdiction) -> QuerySet[Division]:
    return Division.objects.filter(code__in=jurisdiction.prefixes).order_by("code")
