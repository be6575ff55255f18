"""Plans, deadlines, support measures, funding — and reminders for late plans."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.params import amount
from townships.models import PROGRAMME_KINDS, Division, Level, PilotTownship, Role
from workflow.models import LEVEL_OF_CODE_LENGTH, Funding, FundingPurpose, Plan, PlanDeadline, PlanDocument, PlanLevel, PlanStatus, SupportMeasure

from .common import WorkflowRefused, require_area, require_role, store_private_file
from .notifications import notify, staff_of

FUNDING_AMOUNTS = ("provincial_planned", "provincial_spent", "local_planned", "local_spent")
ROLE_OF_LEVEL = {PlanLevel.PROVINCE: Role.PROVINCE_STAFF, PlanLevel.CITY: Role.CITY_STAFF, PlanLevel.COUNTY: Role.COUNTY_OFFICER}


@transaction.atomic
def set_deadline(*, user, year: int, level: str, due_on: date) -> PlanDeadline:
    require_role(user, Role.PROVINCE_STAFF, message=_("Only provincial staff set plan deadlines."))
    if level not in PlanLevel.values:
        raise WorkflowRefused(_("Unknown level."))
    deadline, _created = PlanDeadline.objects.update_or_create(year=year, level=level, defaults={"due_on": due_on, "set_by": user})
    return deadline


def _own_plan(user, plan: Plan) -> None:
    """A plan is written by staff of its own unit only (a city does not write its counties' plans)."""
    if user.unit_id != plan.unit_id or user.role != ROLE_OF_LEVEL[LEVEL_OF_CODE_LENGTH[len(plan.unit_id)]]:
        require_area(user, plan.unit_id)
        raise WorkflowRefused(_("Only staff of %(unit)s can change its plan.") % {"unit": plan.unit.name})
    if plan.status == PlanStatus.FILED:
        raise WorkflowRefused(_("The plan has been filed and can no longer be changed."))


@transaction.atomic
def save_plan(*, user, year: int, title: str, summary: str = "") -> Plan:
    """Create or update the user's own unit's plan for the year (a draft until filed)."""
    if not user.unit_id or len(user.unit_id) not in LEVEL_OF_CODE_LENGTH:
        raise WorkflowRefused(_("Only provincial, city and county staff file plans."))
    if not title.strip():
        raise WorkflowRefused(_("Give the plan a title."))
    plan = Plan.objects.select_for_update().filter(unit_id=user.unit_id, year=year).first()
    if plan is None:
        plan = Plan(unit_id=user.unit_id, year=year, created_by=user)
    _own_plan(user, plan)
    plan.title, plan.summary = title.strip(), summary.strip()
    plan.save()
    return plan


@transaction.atomic
def add_measure(*, user, plan: Plan, what: str, owner: str, budget: Decimal, due_on: date, township_code: str | None = None) -> SupportMeasure:
    _own_plan(user, plan)
    if not what.strip() or not owner.strip():
        raise WorkflowRefused(_("Say what the measure is and who is responsible."))
    if budget is None or Decimal(budget) < 0:
        raise WorkflowRefused(_("The budget must be a non-negative amount."))
    if township_code:
        if not Division.objects.filter(code=township_code, parent_id=plan.unit_id, level=Level.TOWNSHIP).exists():
            raise WorkflowRefused(_("The township is not in this plan's county."))
    return SupportMeasure.objects.create(plan=plan, township_id=township_code or None, what=what.strip(), owner=owner.strip(), budget=budget, due_on=due_on)


@transaction.atomic
def add_plan_document(*, user, plan: Plan, data: bytes, file_name: str) -> PlanDocument:
    _own_plan(user, plan)
    return PlanDocument.objects.create(plan=plan, uploaded_by=user, **store_private_file(data=data, file_name=file_name, folder="plans"))


@transaction.atomic
def file_plan(*, user, plan: Plan) -> Plan:
    """File the plan. A county's plan must state support measures for every 乡镇 in it
    (明确每个乡镇的教育发展支持举措) and every plan needs its document."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    _own_plan(user, plan)
    if not plan.documents.exists():
        raise WorkflowRefused(_("Attach the plan document before filing."))
    if LEVEL_OF_CODE_LENGTH[len(plan.unit_id)] == PlanLevel.COUNTY:
        covered = set(plan.measures.exclude(township=None).values_list("township_id", flat=True))
        towns = Division.objects.filter(parent_id=plan.unit_id, level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS).order_by("code")
        missing = [name for code, name in towns.values_list("code", "name") if code not in covered]
        if missing:
            raise WorkflowRefused(_("A county plan states support measures for every township; missing: %(names)s") % {"names": "、".join(missing)})
    plan.status, plan.filed_at, plan.filed_by = PlanStatus.FILED, timezone.now(), user
    plan.save(update_fields=["status", "filed_at", "filed_by", "updated_at"])
    return plan


def remind_late_plans(*, year: int, today: date | None = None) -> int:
    """Notify the staff of every unit whose plan is past its deadline — once a day at most."""
    from townships.jurisdiction import Jurisdiction
    from workflow.selectors import plan_status

    today = today or timezone.localdate()
    sent = 0
    for row in plan_status(year=year, jurisdiction=Jurisdiction(everything=True), today=today):
        if row["state"] != "late":
            continue
        users = [u for u in staff_of(row["code"], ROLE_OF_LEVEL[row["level"]]) if u.unit_id == row["code"]]
        sent += notify(
            users=users, kind="plan_late", url="/workflow/plans/",
            title=_("The %(year)s implementation plan is %(days)d days late") % {"year": year, "days": row["late_days"]},
            body=_("It was due on %(date)s.") % {"date": row["due_on"]},
            key=f"plan_late:{row['code']}:{year}:{today.isoformat()}",
        )
    return sent


@transaction.atomic
def save_funding(*, user, township_code: str, year: int, purpose: str, amounts: dict[str, Decimal]) -> Funding:
    """Funding of a pilot township (upserted by township, year, purpose); county officers of its county."""
    require_area(user, township_code)
    require_role(user, Role.COUNTY_OFFICER, message=_("County officers record the funding of their pilot townships."))
    if not PilotTownship.objects.filter(township_id=township_code).exists():
        raise WorkflowRefused(_("Funding is recorded for pilot townships only."))
    if purpose not in FundingPurpose.values:
        raise WorkflowRefused(_("Unknown purpose."))
    values = {}
    for f in FUNDING_AMOUNTS:
        column = Funding._meta.get_field(f)
        try:
            # The one check of an amount, whichever way it came (page, API): what the column holds.
            values[f] = amount(amounts.get(f), max_digits=column.max_digits, decimal_places=column.decimal_places)
        except ValueError:
            raise WorkflowRefused(
                _("%(field)s: give a non-negative amount in 10k yuan below %(limit)s with at most %(places)d decimals.")
                % {"field": column.verbose_name, "limit": f"{10 ** (column.max_digits - column.decimal_places):,}", "places": column.decimal_places}
            ) from None
    funding, _created = Funding.objects.update_or_create(
        township_id=township_code, year=year, purpose=purpose, defaults={**values, "updated_by": user}
    )
    return funding

