"""Survey windows: a county opens one per township (dates, questionnaire, target per school) and
gets a one-time answer code per expected answer. Codes issued are the survey's "issued" figure."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.queueing import enqueue_on_commit
from security.audit import record
from surveys.models import AnswerCode, Questionnaire, SurveyWindow, WindowSchool
from surveys.services.questionnaires import freeze
from townships.jurisdiction import Jurisdiction
from townships.models import Role, School, Stage, Township

# No 0/O, 1/I/L: a code typed from a slip on a phone is read right. 31 letters.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX_LENGTH = 3
# 31^7 ≈ 2.8·10^10 codes per window: with a few thousand issued, a guess hits one in ten million.
RANDOM_LENGTH = 7
COUNT_TASK = "surveys.tasks.count_window_task"
# Schools of several stages answer questionnaires of the stages they teach.
TAUGHT = {
    Stage.KINDERGARTEN: {"kindergarten"}, Stage.PRIMARY: {"primary"}, Stage.JUNIOR: {"junior"},
    Stage.NINE_YEAR: {"primary", "junior"}, Stage.COMPLETE_MIDDLE: {"junior"}, Stage.TWELVE_YEAR: {"primary", "junior"},
}


class SurveyRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotInArea(SurveyRefused):
    def __init__(self):
        super().__init__(_("Not found."))


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def format_code(code: str) -> str:
    """As printed: the window's prefix, then the rest in two groups."""
    return f"{code[:PREFIX_LENGTH]}-{code[PREFIX_LENGTH:PREFIX_LENGTH + 4]}-{code[PREFIX_LENGTH + 4:]}"


def _new_prefix() -> str:
    for _attempt in range(50):
        prefix = _random(PREFIX_LENGTH)
        if not SurveyWindow.objects.filter(prefix=prefix).exists():
            return prefix
    raise SurveyRefused(_("No free code prefix; try again."))


def _new_codes(prefix: str, n: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < n:
        codes.update(prefix + _random(RANDOM_LENGTH) for _ in range(n - len(codes)))
        # Another window's codes never share the prefix, so only this batch can collide.
    return sorted(codes)


def _check_schools(*, township: Township, questionnaire: Questionnaire, targets: dict[int, int]) -> dict[int, School]:
    if not targets:
        raise SurveyRefused(_("Give at least one school a target number of answers."))
    limit = settings.SURVEY_MAX_CODES_PER_SCHOOL
    schools = {s.pk: s for s in School.objects.filter(pk__in=list(targets), township=township)}
    for pk, n in targets.items():
        school = schools.get(pk)
        if school is None:
            raise SurveyRefused(_("A school is not in this township."))
        if not isinstance(n, int) or n < 1 or n > limit:
            raise SurveyRefused(_("The target of %(school)s must be a whole number from 1 to %(limit)d.") % {"school": school.name, "limit": limit})
        wanted = {s for s in questionnaire.stages.split(",") if s}
        if wanted and not (TAUGHT.get(school.stage, set()) & wanted):
            raise SurveyRefused(_("%(school)s does not teach the stages of this questionnaire.") % {"school": school.name})
    return schools


@transaction.atomic
def open_window(*, user, jurisdiction: Jurisdiction, township_code: str, questionnaire: Questionnaire, period: int,
                opens_at: datetime, closes_at: datetime, targets: dict[int, int]) -> SurveyWindow:
    """Open a window and issue its codes, all or nothing. The questionnaire is frozen from now on."""
    if not (user.is_superuser or user.role == Role.COUNTY_OFFICER):
        raise SurveyRefused(_("Only county officers open survey windows."))
    if not jurisdiction.covers(township_code):
        raise NotInArea()
    township = Township.objects.filter(code=township_code).first()
    if township is None:
        raise NotInArea()
    if not township.is_programme_township:
        raise SurveyRefused(_("Surveys are run in townships and towns (xiang and zhen) only."))
    if closes_at <= opens_at:
        raise SurveyRefused(_("The window must close after it opens."))
    if closes_at <= timezone.now():
        raise SurveyRefused(_("The window would already be closed."))
    if closes_at - opens_at > timedelta(days=settings.SURVEY_MAX_WINDOW_DAYS):
        raise SurveyRefused(_("A window lasts at most %(days)d days.") % {"days": settings.SURVEY_MAX_WINDOW_DAYS})
    schools = _check_schools(township=township, questionnaire=questionnaire, targets=targets)
    freeze(questionnaire)
    window = SurveyWindow.objects.create(township=township, questionnaire=questionnaire, period=period, opens_at=opens_at,
                                         closes_at=closes_at, prefix=_new_prefix(), created_by=user)
    WindowSchool.objects.bulk_create([WindowSchool(window=window, school=schools[pk], target=n) for pk, n in sorted(targets.items())])
    codes = _new_codes(window.prefix, sum(targets.values()))
    owners = [pk for pk, n in sorted(targets.items()) for _ in range(n)]
    AnswerCode.objects.bulk_create([AnswerCode(window=window, school_id=pk, code=code) for pk, code in zip(owners, codes, strict=True)],
                                   batch_size=1000)
    record(action="survey_window_open", user=user, target=f"survey:{window.pk} {questionnaire.code}-{questionnaire.version}", area=township.code,
           detail={"period": period, "opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat(), "codes": len(codes)})
    # The issued figure flows into the township's year now, the answers as they come.
    enqueue_on_commit(COUNT_TASK, window.pk)
    return window


@transaction.atomic
def close_window(*, user, jurisdiction: Jurisdiction, window: SurveyWindow, now: datetime | None = None) -> SurveyWindow:
    """Close a window early: later answers are refused; what was answered counts."""
    now = now or timezone.now()
    if not (user.is_superuser or user.role == Role.COUNTY_OFFICER):
        raise SurveyRefused(_("Only county officers close survey windows."))
    if not jurisdiction.covers(window.township_id):
        raise NotInArea()
    if window.closes_at <= now:
        raise SurveyRefused(_("This window is already closed."))
    window.closes_at, window.opens_at = now, min(window.opens_at, now)
    window.save(update_fields=["closes_at", "opens_at"])
    record(action="survey_window_close", user=user, target=f"survey:{window.pk}", area=window.township_id)
    enqueue_on_commit(COUNT_TASK, window.pk)
    return window
