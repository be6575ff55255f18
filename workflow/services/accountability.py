"""What the province does with counties that lag (通报、约谈、问责), on record: a numbered notice
with its PDF, a formal talk with minutes whose commitments become rectification items, and an
accountability decision with its basis. Each checked before anything is written, audited, and
told to the county."""
from __future__ import annotations

import os
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.results_version import results_changed
from townships.models import Division, Level, Role
from workflow.models import Accountability, Escalation, Notice, NoticeCounty, RectificationItem, RectificationStep, Talk

from .common import WorkflowRefused, require_area, store_private_file
from .notifications import notify, staff_of


def _audit(action: str, user, target: str, area: str, **detail) -> None:
    from security.audit import record

    record(action=action, user=user, target=target, area=area, detail={k: str(v) for k, v in detail.items()})


def _text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise WorkflowRefused(message)
    return value


def _counties(codes) -> list[Division]:
    codes = sorted({str(c).strip() for c in codes or [] if str(c).strip()})
    found = list(Division.objects.filter(code__in=codes, level=Level.COUNTY, code__startswith=settings.PROVINCE_CODE).select_related("parent").order_by("code"))
    if not codes or len(found) != len(codes):
        raise WorkflowRefused(_("Name one or more counties of the province."))
    return found


def _ids(values) -> list[int]:
    try:
        return sorted({int(v) for v in values or []})
    except (TypeError, ValueError):
        raise WorkflowRefused(_("Link notices, talks and items by their numbers.")) from None


def _items_of(ids, counties: list[str]) -> list[RectificationItem]:
    ids = _ids(ids)
    items = list(RectificationItem.objects.filter(pk__in=ids).select_related("township__parent").order_by("township_id", "id"))
    if len(items) != len(ids) or any(i.township_id[:6] not in counties for i in items):
        raise WorkflowRefused(_("Every item linked must be a rectification item of the counties named."))
    return items


def _province_only(user) -> None:
    if not user.is_provincial:
        raise WorkflowRefused(_("Provincial staff issue notices and record accountability decisions."))


def _tell(counties: list[str], *, kind: str, title: str, url: str, key: str) -> None:
    users = set()
    for code in counties:
        users |= set(staff_of(code, Role.COUNTY_OFFICER, Role.CITY_STAFF).filter(unit_id__in=[code, code[:4]]))
    notify(users=sorted(users, key=lambda u: u.pk), kind=kind, title=title, url=url, key=key)


def _date(value, message: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        raise WorkflowRefused(message) from None


@transaction.atomic
def issue_notice(*, user, title: str, body: str, county_codes, item_ids=(), issued_on=None) -> Notice:
    """Number the notice in its year (鲁教督通〔2026〕3号), render and keep its PDF, and put it on
    the record of each county named, with the items that led to it."""
    _province_only(user)
    title = _text(title, _("Give the notice a title."))[:200]
    body = _text(body, _("Write the text of the notice."))
    issued_on = _date(issued_on or timezone.localdate(), _("Give the date of issue as a date."))
    counties = _counties(county_codes)
    codes = [c.code for c in counties]
    items = _items_of(item_ids, codes)
    # Numbers run per year without gaps: the year's notices are locked while the next is taken.
    list(Notice.objects.select_for_update().filter(year=issued_on.year).values_list("pk", flat=True))
    sequence = (Notice.objects.filter(year=issued_on.year).aggregate(m=Max("sequence"))["m"] or 0) + 1
    prefix = getattr(settings, "NOTICE_NUMBER_PREFIX", "鲁教督通")
    notice = Notice(year=issued_on.year, sequence=sequence, number=f"{prefix}〔{issued_on.year}〕{sequence}号", title=title, body=body,
                    issued_on=issued_on, issued_by=user)
    from workflow.pdf import render_pdf

    pdf = render_pdf("workflow/pdf/notice.html", {"notice": notice, "counties": counties, "items": items,
                                                   "issuer": getattr(settings, "NOTICE_ISSUER", "山东省教育厅")})
    stored = store_private_file(data=pdf, file_name=f"{notice.number}.pdf", folder="notices")
    notice.pdf_stored_as, notice.pdf_sha256 = stored["stored_as"], stored["sha256"]
    notice.save()
    NoticeCounty.objects.bulk_create([NoticeCounty(notice=notice, county=c) for c in counties])
    notice.items.set(items)
    RectificationStep.objects.bulk_create([RectificationStep(item=i, action="in_notice", user=user, note=notice.number) for i in items])
    # The items' escalation says so too (the counts by area read it), never lowered.
    RectificationItem.objects.filter(pk__in=[i.pk for i in items], escalation__lt=Escalation.NOTICE).update(escalation=Escalation.NOTICE)
    # The audit's area is the smallest one holding every county named (the counties in detail).
    common = os.path.commonprefix(codes)
    area = next(common[:n] for n in (6, 4, 2) if len(common) >= n)
    _audit("notice_issue", user, f"notice:{notice.pk}", area, number=notice.number, counties=codes, items=[i.pk for i in items])
    _tell(codes, kind="notice", title=_("Notice %(number)s: %(title)s") % {"number": notice.number, "title": title},
          url=f"/workflow/notices/{notice.pk}/", key=f"notice:{notice.pk}")
    # The township pages list the items; the province's dashboard counts the notices (in its cached body).
    results_changed(codes={i.township_id for i in items} | {c[:2] for c in codes})
    return notice


@transaction.atomic
def record_talk(*, user, county_code: str, held_on, talked_to: str, minutes: str, notice_id: int | None = None, item_ids=(),
                commitments=()) -> Talk:
    """A formal talk with a county, by the province or the county's city. Each commitment
    ({township, what, due_on}) becomes a rectification item of the county, owned by the county."""
    require_area(user, county_code or "")
    if not (user.is_provincial or user.role == Role.CITY_STAFF):
        raise WorkflowRefused(_("The province or the county's city records a formal talk."))
    county = _counties([county_code])[0]
    held_on = _date(held_on, _("Give the date of the talk as a date."))
    talked_to = _text(talked_to, _("Name who was talked to."))[:200]
    minutes = _text(minutes, _("Write the minutes of the talk."))
    notice = None
    if notice_id:
        notice_id = (_ids([notice_id]) or [0])[0]
        notice = Notice.objects.filter(pk=notice_id, named__county=county).first()
        if notice is None:
            raise WorkflowRefused(_("The notice linked must name the county."))
    items = _items_of(item_ids, [county.code])
    rows = []
    towns = set(Division.objects.filter(parent=county, level=Level.TOWNSHIP).values_list("code", flat=True))
    for n, c in enumerate(commitments or [], start=1):
        if not isinstance(c, dict):
            raise WorkflowRefused(_("Commitment %(n)d: give its township, what is committed and the deadline.") % {"n": n})
        what = str(c.get("what") or "").strip()
        town = str(c.get("township") or "").strip()
        due = _date(c.get("due_on"), _("Commitment %(n)d: give the deadline as a date.") % {"n": n})
        if not what:
            raise WorkflowRefused(_("Commitment %(n)d: write what is committed.") % {"n": n})
        if town not in towns:
            raise WorkflowRefused(_("Commitment %(n)d: the township must be one of the county's.") % {"n": n})
        if due < held_on:
            raise WorkflowRefused(_("Commitment %(n)d: the deadline cannot be before the talk.") % {"n": n})
        rows.append((town, what, due))
    talk = Talk.objects.create(county=county, held_on=held_on, talked_to=talked_to, minutes=minutes, notice=notice, recorded_by=user)
    talk.items.set(items)
    RectificationItem.objects.bulk_create([
        RectificationItem(township_id=town, stage="all", problem=what[:2000], due_on=due, talk=talk,
                          owner_note=_("%(county)s education bureau") % {"county": county.name})
        for town, what, due in rows
    ])
    created = list(talk.commitments.all())
    RectificationStep.objects.bulk_create(
        [RectificationStep(item=i, action="committed", user=user, note=f"{held_on} {talked_to}") for i in created]
        + [RectificationStep(item=i, action="talk", user=user, note=f"{held_on} {talked_to}") for i in items]
    )
    RectificationItem.objects.filter(pk__in=[i.pk for i in items], escalation__lt=Escalation.TALK).update(escalation=Escalation.TALK)
    _audit("talk_record", user, f"talk:{talk.pk}", county.code, held_on=held_on, talked_to=talked_to, commitments=[i.pk for i in created],
           items=[i.pk for i in items])
    _tell([county.code], kind="talk", title=_("Formal talk with %(county)s on %(date)s recorded") % {"county": county.name, "date": held_on},
          url=f"/workflow/talks/{talk.pk}/", key=f"talk:{talk.pk}")
    results_changed(codes={i.township_id for i in created + items} | {county.code[:2]})
    return talk


@transaction.atomic
def decide_accountability(*, user, county_code: str, decided_on, decision: str, basis: str, notice_ids=(), talk_ids=(), item_ids=()) -> Accountability:
    """An accountability decision on a county: what was decided and its basis, linked to the
    notices naming the county, its talks and its items."""
    _province_only(user)
    county = _counties([county_code])[0]
    decided_on = _date(decided_on, _("Give the date of the decision as a date."))
    decision = _text(decision, _("Write what was decided."))
    basis = _text(basis, _("Give the basis of the decision."))
    notice_ids, talk_ids = _ids(notice_ids), _ids(talk_ids)
    notices = list(Notice.objects.filter(pk__in=notice_ids, named__county=county).distinct())
    talks = list(Talk.objects.filter(pk__in=talk_ids, county=county))
    if len(notices) != len(notice_ids) or len(talks) != len(talk_ids):
        raise WorkflowRefused(_("Every notice and talk linked must concern the county."))
    items = _items_of(item_ids, [county.code])
    decided = Accountability.objects.create(county=county, decided_on=decided_on, decision=decision, basis=basis, decided_by=user)
    decided.notices.set(notices)
    decided.talks.set(talks)
    decided.items.set(items)
    RectificationStep.objects.bulk_create([RectificationStep(item=i, action="accountability", user=user, note=decision[:500]) for i in items])
    _audit("accountability_decide", user, f"accountability:{decided.pk}", county.code, decided_on=decided_on,
           notices=[n.pk for n in notices], talks=[t.pk for t in talks], items=[i.pk for i in items])
    _tell([county.code], kind="accountability", title=_("Accountability decision on %(county)s") % {"county": county.name},
          url=f"/workflow/accountability/{decided.pk}/", key=f"accountability:{decided.pk}")
    results_changed(codes=[county.code[:2]])  # the province's dashboard counts the decisions
    return decided
