"""Reads for evaluation/, always through a jurisdiction."""
from django.db.models import Q, QuerySet

from townships.jurisdiction import Jurisdiction

from .models import ConfirmedFlag, ImportRun, SchoolYear


def import_runs_for(*, user, jurisdiction: Jurisdiction) -> QuerySet[ImportRun]:
    """Uploads of the user's area (by the uploader's unit) and the user's own."""
    return (
        ImportRun.objects.filter(jurisdiction.q("scope_code") | Q(uploaded_by=user))
        .select_related("uploaded_by", "committed_by")
        .order_by("-created_at")
    )


def confirmed_flags_for(jurisdiction: Jurisdiction) -> QuerySet[ConfirmedFlag]:
    return jurisdiction.filter(
        ConfirmedFlag.objects.select_related("run", "confirmed_by", "township__parent"), "township"
    ).order_by("-confirmed_at")


def school_years_for(jurisdiction: Jurisdiction) -> QuerySet[SchoolYear]:
    return jurisdiction.filter(SchoolYear.objects.select_related("school", "township"), "township")
