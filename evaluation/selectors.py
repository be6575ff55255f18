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


def assigned_township_codes(user) -> list[str]:
    """The jurisdiction provider for inspectors: the townships of their assignments."""
    from townships.models import Role

    from .models import Assignment

    if getattr(user, "role", None) != Role.INSPECTOR:
        return []
    return list(Assignment.objects.filter(inspector=user).values_list("township_id", flat=True).distinct())


def forms_for(*, user, jurisdiction: Jurisdiction):
    """Forms of the user's area (staff) or of their assignments (inspectors: same thing, through
    the jurisdiction provider)."""
    from .models import InspectionForm

    return jurisdiction.filter(
        InspectionForm.objects.select_related("round", "township__parent", "submitted_by"), "township"
    ).order_by("-round__period", "township_id")


def assignments_for(jurisdiction: Jurisdiction):
    from .models import Assignment

    return jurisdiction.filter(Assignment.objects.select_related("round", "township", "inspector"), "township").order_by(
        "round", "township_id", "-is_lead"
    )


def evidence_for(jurisdiction: Jurisdiction):
    from .models import Evidence

    return jurisdiction.filter(Evidence.objects.all(), "township")
