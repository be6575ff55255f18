"""Pilot acceptance (验收): at the end of a pilot's period the province records accepted, extended
or withdrawn with the evaluation round it rests on and a note. The pilot list follows through
townships' pilot_status service, which checks the years and has the results recomputed."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evaluation.models import Round, RoundTownship
from townships.models import PilotTownship, Role
from townships.services.pilot_status import decide_pilot
from workflow.models import AcceptanceOutcome, PilotAcceptance

from .common import WorkflowRefused, require_area
from .notifications import notify, staff_of


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1


@transaction.atomic
def record_acceptance(*, user, pilot_id, outcome: str, round_id, note: str, extended_until=None) -> PilotAcceptance:
    if not user.is_provincial:
        raise WorkflowRefused(_("Provincial staff record the acceptance of pilots."))
    pilot = PilotTownship.objects.filter(pk=_int(pilot_id) or 0).select_related("batch", "township").first()
    if pilot is None:
        raise WorkflowRefused(_("Choose a pilot township."))
    require_area(user, pilot.township_id)
    if outcome not in AcceptanceOutcome.values:
        raise WorkflowRefused(_("Choose accepted, extended or withdrawn."))
    rnd = Round.objects.filter(pk=_int(round_id) or 0).first()
    if rnd is None or not RoundTownship.objects.filter(round=rnd, township_id=pilot.township_id).exists():
        raise WorkflowRefused(_("Choose the evaluation round the decision rests on: one that evaluated this township."))
    if rnd.period < pilot.batch.year:
        raise WorkflowRefused(_("The round evaluated a school year before the pilot's batch."))
    note = (note or "").strip()
    if not note:
        raise WorkflowRefused(_("Write a note on the decision."))
    until = _int(extended_until)
    if outcome == AcceptanceOutcome.EXTENDED and (until is None or until <= rnd.period or until > rnd.period + 10):
        raise WorkflowRefused(_("An extension needs the school year it runs until, after the round's."))
    if outcome != AcceptanceOutcome.EXTENDED:
        until = None
    try:
        decide_pilot(entry=pilot, outcome=outcome if outcome != AcceptanceOutcome.EXTENDED else "active", year=rnd.period, user=user)
    except ValidationError as exc:
        raise WorkflowRefused("；".join(m for msgs in exc.message_dict.values() for m in msgs)) from None
    decided = PilotAcceptance.objects.create(pilot=pilot, township_id=pilot.township_id, outcome=outcome, round=rnd, extended_until=until,
                                             note=note, decided_by=user)
    from security.audit import record

    record(action="pilot_acceptance", user=user, target=f"pilot:{pilot.pk}", area=pilot.township_id,
           detail={"outcome": outcome, "round": rnd.pk, "extended_until": until})
    notify(users=staff_of(pilot.township_id, Role.COUNTY_OFFICER, Role.CITY_STAFF), kind="pilot_acceptance",
           title=_("%(township)s: pilot %(outcome)s") % {"township": pilot.township.name, "outcome": AcceptanceOutcome(outcome).label},
           body=note, url="/workflow/", key=f"acceptance:{decided.pk}")
    return decided
