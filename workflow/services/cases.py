"""Good practice (优秀案例): submitted by cities and counties (for their schools), selected and
published by provincial staff to every user of the portal."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from townships.jurisdiction import resolve_jurisdiction
from townships.models import Role, School
from workflow.models import CaseDocument, CaseStatus, CaseTheme, GoodPractice

from .common import WorkflowRefused, require_role, store_private_file
from .notifications import notify


@transaction.atomic
def submit_case(*, user, title: str, theme: str, summary: str, school_code: str = "", files: list[tuple[str, bytes]] = ()) -> GoodPractice:
    require_role(user, Role.CITY_STAFF, Role.COUNTY_OFFICER, Role.PROVINCE_STAFF, message=_("Provincial, city and county staff submit cases."))
    if not title.strip() or not summary.strip():
        raise WorkflowRefused(_("Give the case a title and a summary."))
    if theme not in CaseTheme.values:
        raise WorkflowRefused(_("Choose a theme."))
    school = None
    jurisdiction = resolve_jurisdiction(user)
    if school_code:
        # Another area's school is answered exactly like a code no school has.
        school = jurisdiction.filter(School.objects.filter(code=school_code), "township").first()
        if school is None:
            raise WorkflowRefused(_("No school with the identifier %(code)s in your area.") % {"code": school_code})
    unit = school.township_id[:6] if school else (user.unit_id or "37")
    case = GoodPractice.objects.create(title=title.strip(), theme=theme, unit_id=unit, school=school, summary=summary.strip(), submitted_by=user)
    for name, data in files:
        CaseDocument.objects.create(case=case, uploaded_by=user, **store_private_file(data=data, file_name=name, folder="cases"))
    return case


@transaction.atomic
def review_case(*, user, case: GoodPractice, publish: bool, note: str = "") -> GoodPractice:
    require_role(user, Role.PROVINCE_STAFF, message=_("Provincial staff select and publish cases."))
    case = GoodPractice.objects.select_for_update().get(pk=case.pk)
    if case.status != CaseStatus.SUBMITTED:
        raise WorkflowRefused(_("The case has already been reviewed."))
    case.status = CaseStatus.PUBLISHED if publish else CaseStatus.DECLINED
    case.reviewed_by, case.reviewed_at, case.review_note = user, timezone.now(), note.strip()
    case.save()
    notify(users=[case.submitted_by], kind="case", url=f"/workflow/cases/{case.pk}/",
           title=(_("Your case was published: %(title)s") if publish else _("Your case was not selected: %(title)s")) % {"title": case.title},
           body=note, key=f"case:{case.pk}")
    return case
