"""Reads for surveys/, always through a jurisdiction. County officers see results by item and
school and handle the codes; city and provincial staff see rates only."""
from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from surveys.models import AnswerCode, Questionnaire, SurveyFlag, SurveyWindow
from townships.jurisdiction import Jurisdiction, get_in_jurisdiction_or_404
from townships.models import PROGRAMME_KINDS, Division, Level, Role, School


def sees_surveys(user) -> bool:
    return user.is_superuser or user.is_area_staff


def sees_details(user) -> bool:
    """Results by item and school, the codes and the flags: the county's (and operators')."""
    return user.is_superuser or user.role == Role.COUNTY_OFFICER


def windows_in(*, user, jurisdiction: Jurisdiction) -> QuerySet[SurveyWindow]:
    if not sees_surveys(user):
        return SurveyWindow.objects.none()
    return jurisdiction.filter(SurveyWindow.objects.select_related("township__parent", "questionnaire"), "township").order_by("-opens_at", "-id")


def window_or_404(*, user, jurisdiction: Jurisdiction, pk: int, details: bool = False) -> SurveyWindow:
    if not sees_surveys(user) or (details and not sees_details(user)):
        raise Http404
    return get_in_jurisdiction_or_404(SurveyWindow.objects.select_related("township__parent", "questionnaire"), jurisdiction, "township", pk=pk)


def codes_of(window: SurveyWindow) -> QuerySet[AnswerCode]:
    return window.codes.select_related("school").order_by("school__code", "code")


def flags_of(window: SurveyWindow) -> QuerySet[SurveyFlag]:
    return window.flags.select_related("school")


def townships_for_new_window(jurisdiction: Jurisdiction) -> QuerySet[Division]:
    return jurisdiction.filter(Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS), "code").order_by("code")


def schools_of(township_code: str) -> QuerySet[School]:
    return School.objects.filter(township_id=township_code).order_by("code")


def questionnaires_open_to_use() -> QuerySet[Questionnaire]:
    return Questionnaire.objects.prefetch_related("items").order_by("code", "-version")
