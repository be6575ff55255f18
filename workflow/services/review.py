"""Self-assessment reviewed up the levels: the county files it, the city reviews (复核), the
province reviews; each step records who, when and why. An approval locks the data behind it
for the round; the level above reopens it with a reason."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.results_version import results_changed
from evaluation.models import FormStatus, InspectionForm, JudgmentLevel, ObservationPoint, RoundTownship
from evaluation.services.rollup_jobs import queue_rollup_on_commit
from security.audit import record as audit
from townships.models import Role
from workflow.models import AssessmentStatus as S
from workflow.models import DataLock, PlanLevel, ReviewStep, SelfAssessment, SelfAssessmentItem

from .common import WorkflowRefused, require_area
from .notifications import notify, staff_of

EDITABLE = {S.DRAFT, S.CITY_RETURNED, S.PROVINCE_RETURNED, S.REOPENED}


def _url(a: SelfAssessment) -> str:
    return f"/workflow/assessments/{a.pk}/"


@transaction.atomic
def open_assessment(*, user, round, township_code: str) -> SelfAssessment:
    require_area(user, township_code)
    if user.role != Role.COUNTY_OFFICER:
        raise WorkflowRefused(_("County officers file self-assessments."))
    if not RoundTownship.objects.filter(round=round, township_id=township_code).exists():
        raise WorkflowRefused(_("The township is not covered by this round."))
    assessment, created = SelfAssessment.objects.get_or_create(round=round, township_id=township_code)
    if created:
        points = ObservationPoint.objects.filter(target__framework=round.framework)
        SelfAssessmentItem.objects.bulk_create([SelfAssessmentItem(assessment=assessment, point=p) for p in points])
    return assessment


def _locked_for_update(assessment: SelfAssessment) -> SelfAssessment:
    return SelfAssessment.objects.select_for_update().select_related("round", "township").get(pk=assessment.pk)


@transaction.atomic
def save_self_assessment(*, user, assessment: SelfAssessment, version: int, answers: dict[str, dict]) -> SelfAssessment:
    """{point code: {"level", "comment"}} from `version`; a stale version is refused."""
    a = _locked_for_update(assessment)
    require_area(user, a.township_id)
    if user.role != Role.COUNTY_OFFICER:
        raise WorkflowRefused(_("Only the county fills its self-assessment."))
    if a.status not in EDITABLE:
        raise WorkflowRefused(_("The self-assessment is under review or approved and cannot be changed."))
    if version != a.version:
        raise WorkflowRefused(_("Someone saved the self-assessment since you opened it. Reload it and make your change again."))
    items = {i.point.code: i for i in a.items.select_related("point")}
    unknown = sorted(set(answers) - set(items))
    if unknown:
        raise WorkflowRefused(_("Unknown observation points: %(codes)s") % {"codes": "、".join(unknown)})
    changed = []
    for code, answer in answers.items():
        level = (answer.get("level") or "").strip()
        if level and level not in JudgmentLevel.values:
            raise WorkflowRefused(_("Point %(code)s: unknown level %(level)s.") % {"code": code, "level": level})
        item = items[code]
        item.level, item.comment = level, (answer.get("comment") or "").strip()
        changed.append(item)
    SelfAssessmentItem.objects.bulk_update(changed, ["level", "comment"])
    SelfAssessment.objects.filter(pk=a.pk).update(version=F("version") + 1, updated_at=timezone.now())
    a.refresh_from_db()
    return a


@transaction.atomic
def submit_self_assessment(*, user, assessment: SelfAssessment) -> SelfAssessment:
    a = _locked_for_update(assessment)
    require_area(user, a.township_id)
    if user.role != Role.COUNTY_OFFICER:
        raise WorkflowRefused(_("Only the county submits its self-assessment."))
    if a.status not in EDITABLE:
        raise WorkflowRefused(_("The self-assessment is already under review or approved."))
    missing = list(a.items.filter(level="").order_by("point__id").values_list("point__code", flat=True))
    if missing:
        raise WorkflowRefused(_("Give a level for every observation point; missing: %(codes)s") % {"codes": "、".join(missing)})
    return _step(a, user, S.SUBMITTED, "submit", PlanLevel.COUNTY, "", [], notify_roles=(Role.CITY_STAFF,),
                 title=_("%(township)s: self-assessment submitted for review") % {"township": a.township.name})


@transaction.atomic
def review_self_assessment(*, user, assessment: SelfAssessment, approve: bool, reason: str = "", points: list[str] | None = None) -> SelfAssessment:
    """The city reviews what the county submitted; the province what the city approved. A return
    gives a reason and names the points to revisit. Nobody reviews outside their area, and the
    county never reviews its own."""
    a = _locked_for_update(assessment)
    require_area(user, a.township_id)
    if user.role == Role.CITY_STAFF and a.status == S.SUBMITTED:
        level, approved, returned = PlanLevel.CITY, S.CITY_APPROVED, S.CITY_RETURNED
    elif user.is_provincial and a.status == S.CITY_APPROVED:
        level, approved, returned = PlanLevel.PROVINCE, S.PROVINCE_APPROVED, S.PROVINCE_RETURNED
    elif user.role == Role.COUNTY_OFFICER:
        raise WorkflowRefused(_("A county cannot review its own self-assessment."))
    else:
        raise WorkflowRefused(_("The self-assessment is not waiting for your review (status: %(status)s).") % {"status": a.get_status_display()})
    points = [p for p in (points or []) if p]
    if not approve:
        if not reason.strip():
            raise WorkflowRefused(_("Give the reason for returning it."))
        known = set(a.items.values_list("point__code", flat=True))
        unknown = sorted(set(points) - known)
        if unknown:
            raise WorkflowRefused(_("Unknown observation points: %(codes)s") % {"codes": "、".join(unknown)})
        _release(a, user, reason)
        return _step(a, user, returned, "return", level, reason, points, notify_roles=(Role.COUNTY_OFFICER,),
                     title=_("%(township)s: self-assessment returned") % {"township": a.township.name})
    DataLock.objects.filter(round=a.round, township=a.township, released_at=None).update(level=level)
    if not DataLock.objects.filter(round=a.round, township=a.township, released_at=None).exists():
        DataLock.objects.create(round=a.round, township=a.township, period=a.round.period, level=level, locked_by=user)
    roles = (Role.COUNTY_OFFICER, Role.PROVINCE_STAFF) if level == PlanLevel.CITY else (Role.COUNTY_OFFICER, Role.CITY_STAFF)
    return _step(a, user, approved, "approve", level, reason, [], notify_roles=roles,
                 title=_("%(township)s: self-assessment approved") % {"township": a.township.name})


@transaction.atomic
def reopen_self_assessment(*, user, assessment: SelfAssessment, reason: str) -> SelfAssessment:
    """The level above the approval reopens it (the province for the city's approval and for its
    own), with a reason; the data lock is released and the county may change its data again."""
    a = _locked_for_update(assessment)
    require_area(user, a.township_id)
    if a.status not in (S.CITY_APPROVED, S.PROVINCE_APPROVED):
        raise WorkflowRefused(_("Only an approved self-assessment can be reopened."))
    if not user.is_provincial:
        raise WorkflowRefused(_("Only the level above the approval can reopen it."))
    if not reason.strip():
        raise WorkflowRefused(_("Give the reason for reopening it."))
    _release(a, user, reason)
    return _step(a, user, S.REOPENED, "reopen", PlanLevel.PROVINCE, reason, [], notify_roles=(Role.COUNTY_OFFICER, Role.CITY_STAFF),
                 title=_("%(township)s: reopened for changes") % {"township": a.township.name})


def _release(a: SelfAssessment, user, reason: str) -> None:
    DataLock.objects.filter(round=a.round, township=a.township, released_at=None).update(
        released_at=timezone.now(), released_by=user, release_reason=reason
    )


def _step(a, user, status, action, level, reason, points, *, notify_roles, title) -> SelfAssessment:
    a.status = status
    a.version += 1
    a.save(update_fields=["status", "version", "updated_at"])
    step = ReviewStep.objects.create(assessment=a, action=action, level=level, user=user, reason=reason.strip(), points=points)
    audit(action=f"review_{action}", user=user, target=f"self-assessment:{a.pk}", area=a.township_id,
          detail={"status": status, "reason": reason.strip(), "points": points})
    body = reason.strip() + (("\n" + _("Points to revisit: %(codes)s") % {"codes": "、".join(points)}) if points else "")
    notify(users=[u for u in staff_of(a.township_id, *notify_roles) if u.pk != user.pk], kind=f"review_{action}", title=title,
           body=body, url=_url(a), key=f"review:{step.pk}")
    _queue_rollup(a)
    return a


def _queue_rollup(a: SelfAssessment) -> None:
    # The dashboards can show approved figures only: an approval changes what they count.
    results_changed(codes=[a.township_id])
    queue_rollup_on_commit(periods={a.round.period}, township_codes={a.township_id})


def gaps(assessment: SelfAssessment) -> list[dict]:
    """Where the county's self-assessment and the inspectors' submitted judgment differ."""
    form = InspectionForm.objects.filter(round=assessment.round, township=assessment.township, status=FormStatus.SUBMITTED).first()
    judged = dict(form.judgments.values_list("point__code", "level")) if form else {}
    rows = []
    for item in assessment.items.select_related("point").order_by("point__id"):
        inspectors = judged.get(item.point.code)
        if inspectors and item.level and inspectors != item.level:
            rows.append({"point": item.point, "county": item.level, "inspectors": inspectors})
    return rows
