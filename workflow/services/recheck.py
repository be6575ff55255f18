"""Re-checks of rectification items against the next roll-up (复查): the latest result of the
item's point for its township in a later school year or a later round. Attained: the item shows
"复查达成" and may be closed on that evidence. Still not attained: an item closed as fixed is
reopened with the figure. Set-based and idempotent — the same results never change an item twice."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.results_version import results_changed
from evaluation.figures import figure
from evaluation.models import ObservationPoint, PointResult
from evaluation.vocabulary import Verdict
from townships.models import Role
from workflow.models import ItemStatus, RectificationItem, RectificationStep

from .notifications import notify, staff_of

JUDGED = (Verdict.ATTAINED, Verdict.BASIC, Verdict.NOT_ATTAINED)  # insufficient data decides nothing
STAGE_NAMES = {"all": "全乡镇", "kindergarten": "幼儿园", "primary": "小学", "junior": "初中"}


def _figure_text(key: tuple[int, int], rows: list[dict], points: dict[int, ObservationPoint]) -> str:
    period, round_key = key
    head = _("school year %(period)s") % {"period": period} + (_(", round %(round)s") % {"round": round_key} if round_key else "")
    parts = []
    for r in rows:
        point = points[r["point_id"]]
        what = (_("value %(value)s, urban reference %(reference)s") % {"value": figure(r["value"], point), "reference": figure(r["reference"], point)}
                if r["value"] is not None else Verdict(r["verdict"]).label)
        parts.append(f"{STAGE_NAMES.get(r['stage'], r['stage'])}：{what}")
    return f"{head}：" + "；".join(parts)


@transaction.atomic
def recheck_items(*, county_codes: list[str] | None = None, periods: list[int] | None = None) -> dict:
    """Re-check the items of these counties (or prefixes; None: all) whose round's school year is
    at most the latest of `periods` (None: every item) against the results as they are now."""
    items = RectificationItem.objects.select_for_update(of=("self",)).filter(point__isnull=False, round__isnull=False)
    if county_codes:
        q = Q()
        for code in county_codes:
            q |= Q(township__code__startswith=code)
        items = items.filter(q)
    if periods:
        items = items.filter(round__period__lte=max(periods))
    items = list(items.select_related("round").only(
        "pk", "township_id", "point_id", "stage", "status", "due_on", "owner_id", "closed_at", "round__id", "round__period",
        "recheck_verdict", "recheck_key", "recheck_figure", "reopened_for"))
    if not items:
        return {"rechecked": 0, "attained": 0, "reopened": 0}
    first = min(i.round.period for i in items)
    rows = PointResult.objects.filter(
        division_code__in={i.township_id for i in items}, point_id__in={i.point_id for i in items}, period__gte=first, verdict__in=JUDGED,
    ).values("division_code", "point_id", "period", "round_key", "stage", "value", "reference", "verdict")
    by_key: dict[tuple[str, int], dict[tuple[int, int], list[dict]]] = {}
    for r in rows:
        by_key.setdefault((r["division_code"], r["point_id"]), {}).setdefault((r["period"], r["round_key"]), []).append(r)
    points = ObservationPoint.objects.in_bulk({i.point_id for i in items})
    today, days = timezone.localdate(), getattr(settings, "RECTIFICATION_DAYS", 90)
    changed, steps, reopened, attained = [], [], [], []
    for item in items:
        later = {
            k: v for k, v in by_key.get((item.township_id, item.point_id), {}).items()
            if k[0] > item.round.period or (k[1] > item.round.pk)
        }
        if item.stage != "all":
            later = {k: [r for r in v if r["stage"] == item.stage] for k, v in later.items()}
            later = {k: v for k, v in later.items() if v}
        if not later:
            continue
        key = max(later)
        found = later[key]
        verdict = Verdict.ATTAINED if all(r["verdict"] == Verdict.ATTAINED for r in found) else Verdict.NOT_ATTAINED
        key_text, text = f"{key[0]}:{key[1]}", _figure_text(key, found, points)
        dirty = (item.recheck_verdict, item.recheck_key, item.recheck_figure) != (verdict, key_text, text)
        if (item.recheck_verdict, item.recheck_key) != (verdict, key_text):
            steps.append(RectificationStep(item=item, action="rechecked", note=f"{Verdict(verdict).label}（{text}）"))
            if verdict == Verdict.ATTAINED and item.status != ItemStatus.CLOSED:
                attained.append(item)
        item.recheck_verdict, item.recheck_key, item.recheck_figure = verdict, key_text, text
        if verdict == Verdict.NOT_ATTAINED and item.status == ItemStatus.CLOSED and item.reopened_for != key_text:
            item.status, item.closed_at, item.reopened_for = ItemStatus.OPEN, None, key_text
            item.due_on = max(item.due_on, today + timedelta(days=days))
            steps.append(RectificationStep(item=item, action="reopened", note=_("Still not attained at the re-check: %(figure)s; new deadline %(date)s") % {
                "figure": text, "date": item.due_on}))
            reopened.append(item)
            dirty = True
        if dirty:
            changed.append(item)
    RectificationItem.objects.bulk_update(changed, ["recheck_verdict", "recheck_key", "recheck_figure", "status", "closed_at", "reopened_for", "due_on"], batch_size=1000)
    RectificationStep.objects.bulk_create(steps, batch_size=2000)
    _tell(reopened, kind="item_reopened", title=_("%(count)d rectification items reopened: still not attained at the re-check"))
    _tell(attained, kind="item_recheck", title=_("%(count)d rectification items attained at the re-check (复查达成)"))
    if changed:
        results_changed(codes={i.township_id for i in changed})
    return {"rechecked": len(changed), "attained": len(attained), "reopened": len(reopened)}


def _tell(items: list[RectificationItem], *, kind: str, title: str) -> None:
    """One notice per township to its county officers (the owners among them)."""
    by_town: dict[str, list[RectificationItem]] = {}
    for i in items:
        by_town.setdefault(i.township_id, []).append(i)
    for town, group in by_town.items():
        keys = ",".join(str(i.pk) for i in group)[:60]
        notify(users=staff_of(town, Role.COUNTY_OFFICER), kind=kind, title=title % {"count": len(group)},
               url=f"/workflow/rectification/?township={town}", key=f"{kind}:{town}:{group[0].recheck_key}:{keys}")
