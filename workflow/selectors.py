"""Reads of the workflow, always inside a jurisdiction."""
from __future__ import annotations

from datetime import date

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from townships.jurisdiction import Jurisdiction
from townships.models import Division, Level

from .models import (
    LEVEL_OF_CODE_LENGTH,
    CaseStatus,
    DataLock,
    GoodPractice,
    ItemStatus,
    Notification,
    Plan,
    PlanDeadline,
    PlanLevel,
    RectificationItem,
    SelfAssessment,
)


def locked_keys(keys: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The lock provider evaluation asks: for each locked (township, school year) a message that
    names the lock — who approved, when, in which round — and how to get it reopened."""
    # Two IN lists and a match in Python: an upload asks about thousands of keys at once.
    towns, periods = {t for t, _p in keys}, {p for _t, p in keys}
    found = {}
    for lock in DataLock.objects.filter(township_id__in=towns, period__in=periods, released_at=None).select_related("round", "township__parent", "locked_by__unit"):
        if (lock.township_id, lock.period) not in keys:
            continue
        unit = lock.locked_by.unit.name if lock.locked_by.unit_id else lock.locked_by.get_username()
        found[(lock.township_id, lock.period)] = _(
            "%(township)s, school year %(period)s: approved by %(unit)s on %(date)s in %(round)s and locked; "
            "to change it, ask the level above to reopen it"
        ) % {
            "township": f"{lock.township.parent.name}{lock.township.name}", "period": lock.period, "unit": unit,
            "date": timezone.localtime(lock.locked_at).strftime("%Y-%m-%d"), "round": lock.round.name,
        }
    return found


def locked_sql(township: str, period: str) -> str:
    """The lock port's SQL condition over the asking statement's township and period columns:
    an unreleased lock there (the locks `locked_keys` names)."""
    table = connection.ops.quote_name(DataLock._meta.db_table)
    return f"EXISTS (SELECT 1 FROM {table} WHERE township_id = {township} AND period = {period} AND released_at IS NULL)"


def assessments_in(jurisdiction: Jurisdiction) -> QuerySet[SelfAssessment]:
    return jurisdiction.filter(SelfAssessment.objects.select_related("round", "township__parent"), "township")


def items_in(jurisdiction: Jurisdiction) -> QuerySet[RectificationItem]:
    return jurisdiction.filter(RectificationItem.objects.select_related("round", "township__parent", "point", "owner"), "township")


def plans_in(jurisdiction: Jurisdiction) -> QuerySet[Plan]:
    return jurisdiction.filter(Plan.objects.select_related("unit"), "unit")


def county_officers(county: str) -> list:
    """The accounts an item of the county may be assigned to (callers have checked the area)."""
    from townships.models import Role, User

    return list(User.objects.filter(is_active=True, role=Role.COUNTY_OFFICER, unit_id=county).order_by("username").only("pk", "username", "full_name"))


def township_items(code: str) -> list[RectificationItem]:
    """A township's rectification items, newest round first: open ones and last rounds' with
    whether they were fixed (the township page; callers have checked the area)."""
    return list(RectificationItem.objects.filter(township_id=code).select_related("round", "point").order_by("-round__period", "point_id")[:300])


def published_cases() -> QuerySet[GoodPractice]:
    # Published good practice is for every user of the portal: the one deliberate exception to
    # the area rule, and only for what provincial staff chose to publish.
    return GoodPractice.objects.filter(status=CaseStatus.PUBLISHED).select_related("unit", "school")


def cases_in(jurisdiction: Jurisdiction) -> QuerySet[GoodPractice]:
    return jurisdiction.filter(GoodPractice.objects.select_related("unit", "school", "submitted_by"), "unit")


def unread(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at=None)


def plan_status(*, year: int, jurisdiction: Jurisdiction, today: date | None = None) -> list[dict]:
    """Every province, city and county in the area with its plan's state for the year: filed
    (when), late (by how many days), or not yet due."""
    today = today or timezone.localdate()
    deadlines = dict(PlanDeadline.objects.filter(year=year).values_list("level", "due_on"))
    units = jurisdiction.filter(Division.objects.filter(level__in=[Level.PROVINCE, Level.CITY, Level.COUNTY]), "code").order_by("code")
    plans = {p.unit_id: p for p in plans_in(jurisdiction).filter(year=year)}
    rows = []
    for unit in units.values("code", "name", "parent__name"):
        level = LEVEL_OF_CODE_LENGTH[len(unit["code"])]
        due = deadlines.get(level)
        plan = plans.get(unit["code"])
        filed = plan.filed_at.date() if plan and plan.filed_at else None
        end = filed or today
        late = (end - due).days if due and end > due else 0
        rows.append({**unit, "level": level, "due_on": due, "plan": plan, "filed_on": filed, "late_days": late,
                     "state": "filed" if filed else ("late" if late else "pending")})
    return rows


def rectification_counts(jurisdiction: Jurisdiction, *, width: int, today: date | None = None) -> list[dict]:
    """Open, overdue and closed items by area (city: width 4, county: 6), in one query."""
    today = today or timezone.localdate()
    rows = (
        items_in(jurisdiction).annotate(area=Substr("township_id", 1, width)).values("area")
        .annotate(
            open=Count("id", filter=~Q(status=ItemStatus.CLOSED)),
            overdue=Count("id", filter=~Q(status=ItemStatus.CLOSED) & Q(due_on__lt=today)),
            closed=Count("id", filter=Q(status=ItemStatus.CLOSED)),
            notices=Count("id", filter=Q(escalation__gte=1)),
            talks=Count("id", filter=Q(escalation__gte=2)),
        ).order_by("area")
    )
    rows = list(rows)
    names = dict(Division.objects.filter(code__in=[r["area"] for r in rows]).values_list("code", "name"))
    for r in rows:
        r["name"] = names.get(r["area"], r["area"])
    return rows


__all__ = ["PlanLevel"]


# --- Accountability (通报, 约谈, 问责) ---------------------------------------------------------------


def notices_in(jurisdiction: Jurisdiction) -> QuerySet:
    """Notices naming a county in the area: the county, its city and the province see them."""
    from .models import Notice, NoticeCounty

    named = jurisdiction.filter(NoticeCounty.objects.all(), "county").values("notice_id")
    return Notice.objects.filter(pk__in=named).select_related("issued_by").prefetch_related("named__county__parent")


def talks_in(jurisdiction: Jurisdiction) -> QuerySet:
    from .models import Talk

    return jurisdiction.filter(Talk.objects.select_related("county__parent", "notice", "recorded_by"), "county")


def decisions_in(jurisdiction: Jurisdiction) -> QuerySet:
    from .models import Accountability

    return jurisdiction.filter(Accountability.objects.select_related("county__parent", "decided_by"), "county")


def county_record(jurisdiction: Jurisdiction, code: str) -> dict:
    """A county's record: the notices naming it, its talks and accountability decisions, and the
    items that led to them (callers have checked the county is in the area)."""
    from .models import Accountability

    notices = list(notices_in(jurisdiction).filter(named__county_id=code).prefetch_related("items__township").distinct())
    talks = list(talks_in(jurisdiction).filter(county_id=code).prefetch_related("items__township", "commitments__township"))
    decisions = list(decisions_in(jurisdiction).filter(county_id=code).prefetch_related("notices", "talks", "items__township"))
    for n in notices:  # a notice naming several counties lists here only this county's items
        n.county_items = [i for i in n.items.all() if i.township_id.startswith(code)]
    return {"notices": notices, "talks": talks, "decisions": decisions, "decision_model": Accountability}


def accountability_counts(jurisdiction: Jurisdiction, *, year: int, names: dict[str, str] | None = None) -> list[dict]:
    """Per city of the area: notices naming its counties, talks and decisions in the year, in
    one query (a union of three grouped counts). A notice naming two counties of a city counts
    once for it. The cities' names are read in a second query unless the caller has them."""
    from django.db.models import CharField, Value

    from .models import NoticeCounty

    def by_city(qs, field: str, kind: str, counted: str):
        return (qs.annotate(city=Substr(field, 1, 4), kind=Value(kind, output_field=CharField())).values("city", "kind")
                .annotate(n=Count(counted, distinct=True)).order_by())

    rows = list(
        by_city(jurisdiction.filter(NoticeCounty.objects.filter(notice__year=year), "county"), "county_id", "notices", "notice_id")
        .union(by_city(talks_in(jurisdiction).filter(held_on__year=year), "county_id", "talks", "id"), all=True)
        .union(by_city(decisions_in(jurisdiction).filter(decided_on__year=year), "county_id", "decisions", "id"), all=True)
    )
    if not rows:
        return []
    counts: dict[str, dict] = {}
    for r in rows:
        counts.setdefault(r["city"], {"notices": 0, "talks": 0, "decisions": 0})[r["kind"]] = r["n"]
    if names is None or not set(counts) <= set(names):
        names = dict(Division.objects.filter(code__in=counts).values_list("code", "name"))
    return [{"city": c, "name": names.get(c, c), **counts[c]} for c in sorted(counts)]
