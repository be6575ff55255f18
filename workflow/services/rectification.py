"""The rectification loop (整改): every observation point not attained in a round becomes an item
for the county; the county answers with measures and evidence; the inspectors or the city check
and close it or send it back; overdue items escalate — a notice (通报), then a formal talk (约谈)."""
from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.results_version import results_changed
from evaluation.figures import figure
from evaluation.models import Assignment, FormStatus, InspectionForm, PointResult, Round
from evaluation.vocabulary import Verdict
from townships.models import Division, Role, User
from workflow.models import Escalation, ItemStatus, RectificationEvidence, RectificationItem, RectificationStep

from .common import WorkflowRefused, require_area, store_private_file
from .notifications import notify, staff_of

STAGES = {"all": "全乡镇", "kindergarten": "幼儿园", "primary": "小学", "junior": "初中"}


@transaction.atomic
def sync_items(*, round: Round, prefix: str = "") -> int:
    """Create the items of a round from its results: for every township whose inspectors' form
    is submitted, each point (and stage) not attained. Idempotent — an item exists once."""
    submitted = InspectionForm.objects.filter(round=round, status=FormStatus.SUBMITTED, township__code__startswith=prefix)
    forms = {f.township_id: f for f in submitted.select_related("township__parent")}
    if not forms:
        return 0
    failed = (
        PointResult.objects.filter(
            Q(round_key=0) | Q(round_key=round.pk), period=round.period, verdict=Verdict.NOT_ATTAINED, division_code__in=list(forms),
            point__target__framework_id=round.framework_id,
        ).select_related("point").order_by("division_code", "point_id", "stage")
    )
    existing = set(RectificationItem.objects.filter(round=round, township_id__in=list(forms)).values_list("township_id", "point_id"))
    days = getattr(settings, "RECTIFICATION_DAYS", 90)
    # One item per point: its failing stages are listed in the problem (a township fixes a point).
    failing: dict[tuple[str, int], list] = {}
    for r in failed:
        if (r.division_code, r.point_id) not in existing:
            failing.setdefault((r.division_code, r.point_id), []).append(r)
    rows = []
    for (code, _point), results in failing.items():
        form, point = forms[code], results[0].point
        start = timezone.localdate(form.submitted_at) if form.submitted_at else timezone.localdate()
        details = "；".join(
            f"{STAGES.get(r.stage, r.stage)}：" + (
                _("value %(value)s, urban reference %(reference)s") % {"value": figure(r.value, point), "reference": figure(r.reference, point)}
                if r.value is not None else _("judged not attained by the inspectors")
            )
            for r in results
        )
        rows.append(RectificationItem(
            round=round, township_id=code, point=point, stage=results[0].stage if len(results) == 1 else "all",
            problem=f"{point.code} {point.name}（{details}）",
            owner_note=_("%(county)s education bureau") % {"county": form.township.parent.name}, due_on=start + timedelta(days=days),
        ))
    created = RectificationItem.objects.bulk_create(rows, ignore_conflicts=True)
    fresh = RectificationItem.objects.filter(round=round, township_id__in=list(forms)).exclude(
        pk__in=RectificationStep.objects.filter(action="created").values("item_id")
    )
    RectificationStep.objects.bulk_create([RectificationStep(item=i, action="created", note=i.problem) for i in fresh])
    for town in {i.township_id for i in rows}:
        notify(users=staff_of(town, Role.COUNTY_OFFICER), kind="rectification", url="/workflow/rectification/",
               title=_("%(township)s: new rectification items") % {"township": forms[town].township.name}, key=f"items:{round.pk}:{town}")
    results_changed(codes={i.township_id for i in rows})  # township pages list the items
    return len(created)


def _audit(action: str, user, item: RectificationItem, **detail) -> None:
    from security.audit import record

    record(action=action, user=user, target=f"rectification:{item.pk}", area=item.township_id, detail={k: str(v) for k, v in detail.items()})


def _may_assign(user, item: RectificationItem) -> bool:
    """The item's county assigns its owners; the city and the province above may too."""
    if user.is_provincial or user.role == Role.CITY_STAFF:
        return True
    return user.role == Role.COUNTY_OFFICER and user.unit_id == item.township_id[:6]


@transaction.atomic
def assign_owner(*, user, item: RectificationItem, owner_id: int | None, due_on: date | None = None, note: str = "") -> RectificationItem:
    """Make an active county officer of the item's county its owner (or reassign it), optionally
    with a new deadline; the new owner is told."""
    item = _item(item)
    require_area(user, item.township_id)
    if not _may_assign(user, item):
        raise WorkflowRefused(_("The county, its city or the province assigns the owner of an item."))
    if item.status == ItemStatus.CLOSED:
        raise WorkflowRefused(_("The item is closed."))
    owner = User.objects.filter(pk=owner_id, is_active=True, role=Role.COUNTY_OFFICER, unit_id=item.township_id[:6]).first() if owner_id else None
    if owner is None:
        raise WorkflowRefused(_("The owner must be an active county officer account of the item's county."))
    if due_on is not None and due_on < timezone.localdate():
        raise WorkflowRefused(_("The deadline cannot be in the past."))
    before = (item.owner_id, item.due_on)
    item.owner, item.due_on = owner, due_on or item.due_on
    item.save(update_fields=["owner", "due_on"])
    who = owner.full_name or owner.get_username()
    RectificationStep.objects.create(item=item, action="assigned", user=user, note=_("%(owner)s, deadline %(date)s") % {"owner": who, "date": item.due_on}
                                     + (f"；{note.strip()}" if note.strip() else ""))
    _audit("rectification_assign", user, item, owner=f"{before[0]} → {owner.pk}", due_on=f"{before[1]} → {item.due_on}")
    notify(users=[owner], kind="rectification", url=f"/workflow/rectification/{item.pk}/",
           title=_("%(township)s: you are responsible for a rectification item, due %(date)s") % {"township": item.township.name, "date": item.due_on},
           body=item.problem, key=f"assigned:{item.pk}:{item.steps.count()}")
    results_changed(codes=[item.township_id])
    return item


@transaction.atomic
def close_on_recheck(*, user, item: RectificationItem, note: str = "") -> RectificationItem:
    """Close an item whose point the next roll-up found attained, that result as the evidence."""
    item = _item(item)
    require_area(user, item.township_id)
    if not _may_check(user, item):
        raise WorkflowRefused(_("The inspectors of the round or the city check rectification items."))
    if item.status == ItemStatus.CLOSED:
        raise WorkflowRefused(_("The item is closed."))
    if item.recheck_verdict != Verdict.ATTAINED:
        raise WorkflowRefused(_("The re-check has not found the point attained: close the item on evidence of the rectification instead."))
    item.status, item.closed_at = ItemStatus.CLOSED, timezone.now()
    item.save(update_fields=["status", "closed_at"])
    RectificationStep.objects.create(item=item, action="recheck_closed", user=user, note=item.recheck_figure + (f"；{note.strip()}" if note.strip() else ""))
    _audit("rectification_recheck_close", user, item, recheck=item.recheck_key)
    results_changed(codes=[item.township_id])
    notify(users=staff_of(item.township_id, Role.COUNTY_OFFICER), kind="rectification", url=f"/workflow/rectification/{item.pk}/",
           title=_("%(township)s: rectification item closed") % {"township": item.township.name}, body=item.recheck_figure, key=f"closed:{item.pk}:{item.steps.count()}")
    return item


def _item(item: RectificationItem) -> RectificationItem:
    return RectificationItem.objects.select_for_update(of=("self",)).select_related("round", "township").get(pk=item.pk)


@transaction.atomic
def add_item_evidence(*, user, item: RectificationItem, data: bytes, file_name: str) -> RectificationEvidence:
    item = _item(item)
    require_area(user, item.township_id)
    if user.role != Role.COUNTY_OFFICER:
        raise WorkflowRefused(_("The county answers its rectification items."))
    if item.status == ItemStatus.CLOSED:
        raise WorkflowRefused(_("The item is closed."))
    return RectificationEvidence.objects.create(item=item, uploaded_by=user, **store_private_file(data=data, file_name=file_name, folder="rectification"))


@transaction.atomic
def answer_item(*, user, item: RectificationItem, measures: str) -> RectificationItem:
    item = _item(item)
    require_area(user, item.township_id)
    if user.role != Role.COUNTY_OFFICER:
        raise WorkflowRefused(_("The county answers its rectification items."))
    if item.status not in (ItemStatus.OPEN, ItemStatus.RETURNED):
        raise WorkflowRefused(_("The item is not waiting for an answer."))
    if not measures.strip():
        raise WorkflowRefused(_("Describe the measures taken."))
    if not item.evidence.exists():
        raise WorkflowRefused(_("Attach evidence of the rectification (photos, documents) before answering."))
    item.status, item.measures = ItemStatus.ANSWERED, measures.strip()
    item.save(update_fields=["status", "measures"])
    RectificationStep.objects.create(item=item, action="answered", user=user, note=item.measures)
    results_changed(codes=[item.township_id])
    checkers = list(staff_of(item.township_id, Role.CITY_STAFF)) + [a.inspector for a in Assignment.objects.filter(round=item.round, township=item.township).select_related("inspector")]
    notify(users=checkers, kind="rectification", url=f"/workflow/rectification/{item.pk}/",
           title=_("%(township)s: rectification answered, to be checked") % {"township": item.township.name}, key=f"answered:{item.pk}:{item.steps.count()}")
    return item


def _may_check(user, item: RectificationItem) -> bool:
    if user.role == Role.CITY_STAFF or user.is_provincial:
        return True
    return user.role == Role.INSPECTOR and Assignment.objects.filter(round=item.round, township=item.township, inspector=user).exists()


@transaction.atomic
def check_item(*, user, item: RectificationItem, close: bool, note: str = "") -> RectificationItem:
    """The inspectors of the round or the city close an answered item — only with evidence — or
    send it back with a reason."""
    item = _item(item)
    require_area(user, item.township_id)
    if not _may_check(user, item):
        raise WorkflowRefused(_("The inspectors of the round or the city check rectification items."))
    if item.status != ItemStatus.ANSWERED:
        raise WorkflowRefused(_("Only an answered item can be checked."))
    if close:
        if not item.evidence.exists():
            raise WorkflowRefused(_("An item is closed only with evidence of the rectification."))
        item.status, item.closed_at = ItemStatus.CLOSED, timezone.now()
        action = "closed"
    else:
        if not note.strip():
            raise WorkflowRefused(_("Give the reason for sending it back."))
        item.status = ItemStatus.RETURNED
        action = "returned"
    item.save(update_fields=["status", "closed_at"])
    RectificationStep.objects.create(item=item, action=action, user=user, note=note.strip())
    results_changed(codes=[item.township_id])
    notify(users=staff_of(item.township_id, Role.COUNTY_OFFICER), kind="rectification", url=f"/workflow/rectification/{item.pk}/",
           title=(_("%(township)s: rectification item closed") if close else _("%(township)s: rectification item sent back")) % {"township": item.township.name},
           body=note, key=f"{action}:{item.pk}:{item.steps.count()}")
    return item


@transaction.atomic
def escalate_overdue(*, today: date | None = None) -> dict:
    """Overdue open items escalate on schedule: a notice (通报) once past the deadline, a formal
    talk (约谈) when still open RECTIFICATION_TALK_AFTER_DAYS later. Set-based; each step is
    recorded once, so running twice a day escalates nothing twice, and a job that missed days
    catches up with every step that fell due."""
    today = today or timezone.localdate()
    talk_after = getattr(settings, "RECTIFICATION_TALK_AFTER_DAYS", 30)
    overdue = list(
        RectificationItem.objects.select_for_update().filter(due_on__lt=today, escalation__lt=Escalation.TALK).exclude(status=ItemStatus.CLOSED)
        .values_list("pk", "township_id", "escalation", "due_on")
    )
    notices = [(pk, town, due) for pk, town, level, due in overdue if level < Escalation.NOTICE]
    talks = [(pk, town, due) for pk, town, level, due in overdue if (today - due).days >= talk_after]
    RectificationItem.objects.filter(pk__in=[pk for pk, _t, _d in notices]).update(escalation=Escalation.NOTICE)
    RectificationItem.objects.filter(pk__in=[pk for pk, _t, _d in talks]).update(escalation=Escalation.TALK)
    steps = []
    for action, rows in (("notice", notices), ("talk", talks)):
        steps += [RectificationStep(item_id=pk, action=action, note=_("%(days)d days past the deadline of %(date)s") % {"days": (today - due).days, "date": due})
                  for pk, _town, due in rows]
    RectificationStep.objects.bulk_create(steps, batch_size=2000)
    names = dict(Division.objects.filter(code__in={t for _p, t, _d in notices + talks}).values_list("code", "name"))
    for action, rows, roles in (("notice", notices, (Role.COUNTY_OFFICER, Role.CITY_STAFF)), ("talk", talks, (Role.COUNTY_OFFICER, Role.CITY_STAFF, Role.PROVINCE_STAFF))):
        by_town: dict[str, int] = {}
        for _pk, town, _due in rows:
            by_town[town] = by_town.get(town, 0) + 1
        for town, count in by_town.items():
            title = (_("Notice: overdue rectification in %(township)s") if action == "notice" else _("Formal talk: rectification in %(township)s still overdue")) % {"township": names.get(town, town)}
            notify(users=staff_of(town, *roles), kind=f"escalation_{action}", title=title,
                   body=_("%(count)d overdue items") % {"count": count}, url=f"/workflow/rectification/?township={town}", key=f"{action}:{town}:{today.isoformat()}")
    results_changed(codes={town for _pk, town, _due in notices + talks})
    return {"notice": len(notices), "talk": len(talks)}
