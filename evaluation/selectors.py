"""Reads for evaluation/, always through a jurisdiction."""
from django.db.models import Exists, OuterRef, Q, QuerySet

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


def team_scoped(user) -> bool:
    """Whether the user's forms are those of their teams, whatever their jurisdiction: inspectors
    (not operators). The form save's locked read (evaluation/services/forms.py) relies on it."""
    from townships.models import Role

    return getattr(user, "role", None) == Role.INSPECTOR and not user.is_superuser


def forms_for(*, user, jurisdiction: Jurisdiction):
    """Forms of the user's area (staff) or of their assignments (inspectors). An inspector's
    jurisdiction holds the 乡镇 of every assignment; the forms are only those of the rounds they
    are assigned in, not earlier or later rounds of the same 乡镇."""
    from .models import InspectionForm

    forms = InspectionForm.objects.select_related("round", "township__parent", "submitted_by")
    if team_scoped(user):
        # Being on the team implies the 乡镇 is in the jurisdiction (it holds every assignment's),
        # so the team alone decides, and the jurisdiction (a query of its own) is never resolved:
        # an inspector's save is then one statement from the request to the locked form.
        forms = forms.filter(_on_team(user, "round", "township"))
    else:
        forms = jurisdiction.filter(forms, "township")
    return forms.order_by("-round__period", "township_id")


def _on_team(user, round_path: str, township_path: str) -> Exists:
    from .models import Assignment

    return Exists(Assignment.objects.filter(round=OuterRef(round_path), township=OuterRef(township_path), inspector_id=user.pk))


def visible_judgments(user):
    """Who reads a form's judgments: its team always; everyone else whose area holds the form only
    once the lead has submitted it (a draft, or a form returned to the team, is the team's own)."""
    from .models import FormStatus, Judgment

    return Judgment.objects.filter(Q(form__status=FormStatus.SUBMITTED) | _on_team(user, "form__round", "form__township"))


def judgments_visible(user, form) -> bool:
    from .models import Assignment, FormStatus

    return form.status == FormStatus.SUBMITTED or Assignment.objects.filter(round_id=form.round_id, township_id=form.township_id, inspector_id=user.pk).exists()


def assignments_for(jurisdiction: Jurisdiction):
    from .models import Assignment

    return jurisdiction.filter(Assignment.objects.select_related("round", "township", "inspector"), "township").order_by(
        "round", "township_id", "-is_lead"
    )


def evidence_for(jurisdiction: Jurisdiction, user=None):
    """Evidence of the area, and like the judgments it belongs to, a draft's only to its team."""
    from .models import Evidence

    evidence = jurisdiction.filter(Evidence.objects.all(), "township")
    if user is not None:
        forms = forms_for(user=user, jurisdiction=jurisdiction).order_by().values("pk")
        evidence = evidence.filter(judgment__in=visible_judgments(user).filter(form__in=forms).values("pk"))
    return evidence


def verification_items_for(*, user, jurisdiction: Jurisdiction):
    """Sampled figures of the area; an inspector's, of their assignments' rounds only."""
    from townships.models import Role

    from .models import VerificationItem

    items = jurisdiction.filter(VerificationItem.objects.select_related("sample__round", "school", "township__parent", "recorded_by"), "township")
    if getattr(user, "role", None) == Role.INSPECTOR and not user.is_superuser:
        items = items.filter(_on_team(user, "sample__round", "township"))
    return items.order_by("-sample__round__period", "township_id", "school_id", "field")


def findings_for(*, user, jurisdiction: Jurisdiction):
    """Data-quality findings of the area (the county sees its own; inspectors their teams')."""
    from townships.models import Role

    from .models import DataQualityFinding

    findings = jurisdiction.filter(DataQualityFinding.objects.select_related("item__sample__round", "item__school", "township__parent"), "township")
    if getattr(user, "role", None) == Role.INSPECTOR and not user.is_superuser:
        findings = findings.filter(_on_team(user, "item__sample__round", "township"))
    return findings.order_by("-found_at", "id")


def verified_verdicts_for(jurisdiction: Jurisdiction, *, township_code: str | None = None, round_id: int | None = None):
    from .models import VerifiedVerdict

    flips = jurisdiction.filter(VerifiedVerdict.objects.select_related("point__target", "sample__round", "township"), "township")
    if township_code:
        flips = flips.filter(township_id=township_code)
    if round_id:
        flips = flips.filter(sample__round_id=round_id)
    return flips.order_by("township_id", "point__target__number", "point__order", "stage")


def verification_counts(jurisdiction: Jurisdiction) -> list[dict]:
    """Per round and county: figures sampled, recorded, findings, verdicts changed (经核查)."""
    from django.db.models import Count, F
    from django.db.models.functions import Substr

    from .models import DataQualityFinding, VerificationItem, VerifiedVerdict

    def grouped(qs, round_path):
        return {
            (r["round"], r["county"]): r["n"]
            for r in jurisdiction.filter(qs, "township").annotate(county=Substr("township_id", 1, 6)).values("county", round=F(round_path))
            .annotate(n=Count("id")).order_by()
        }

    sampled = grouped(VerificationItem.objects.all(), "sample__round_id")
    recorded = grouped(VerificationItem.objects.filter(recorded_at__isnull=False), "sample__round_id")
    findings = grouped(DataQualityFinding.objects.all(), "item__sample__round_id")
    flips = grouped(VerifiedVerdict.objects.all(), "sample__round_id")
    return [
        {"round": r, "county": c, "sampled": n, "recorded": recorded.get((r, c), 0), "findings": findings.get((r, c), 0), "flips": flips.get((r, c), 0)}
        for (r, c), n in sorted(sampled.items())
    ]
