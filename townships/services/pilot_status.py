"""A pilot's course: its phase, and the school years it was accepted or withdrawn in. Every
change goes through here — the admin included — so it is checked the same way, audited, and the
results of the years it touches are recomputed (through `core.ports.facts_changed`)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import ports
from townships.models import PilotStatus, PilotTownship


def validate_pilot_entry(*, entry: PilotTownship) -> None:
    """Status and years agree: withdrawn names the year it was withdrawn in, accepted the year of
    acceptance; neither before the batch's year, acceptance not after withdrawal."""
    errors = {}
    first = entry.batch.year if entry.batch_id else None
    for field, label in (("accepted_in", _("accepted in")), ("withdrawn_in", _("withdrawn in"))):
        year = getattr(entry, field)
        if year is not None and first is not None and year < first:
            errors[field] = _("The school year %(label)s (%(year)s) cannot be before the batch's year (%(first)s).") % {
                "label": label, "year": year, "first": first}
    if entry.status == PilotStatus.WITHDRAWN and entry.withdrawn_in is None:
        errors["withdrawn_in"] = _("A withdrawn pilot needs the school year it was withdrawn in.")
    if entry.status != PilotStatus.WITHDRAWN and entry.withdrawn_in is not None:
        errors["status"] = _("Only a withdrawn pilot has a school year of withdrawal.")
    if entry.status == PilotStatus.ACCEPTED and entry.accepted_in is None:
        errors["accepted_in"] = _("An accepted pilot needs the school year it was accepted in.")
    if entry.accepted_in is not None and entry.withdrawn_in is not None and entry.accepted_in > entry.withdrawn_in:
        errors["accepted_in"] = _("A pilot cannot be accepted after it was withdrawn.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_pilot_entry(*, entry: PilotTownship, user=None) -> PilotTownship:
    """Save a new or changed pilot entry (checked first: a refusal writes nothing)."""
    validate_pilot_entry(entry=entry)
    before = PilotTownship.objects.filter(pk=entry.pk).first() if entry.pk else None
    entry.save()
    years = [entry.batch.year, *(y for y in (entry.withdrawn_in, entry.accepted_in) if y)]
    if before is not None:
        years += [before.batch.year, *(y for y in (before.withdrawn_in, before.accepted_in) if y)]
    codes = {entry.township_id, *([before.township_id] if before else [])}
    _record("pilot_change", user, entry, before)
    ports.facts_changed(township_codes=codes, from_period=min(years))
    return entry


@transaction.atomic
def delete_pilot_entry(*, entry: PilotTownship, user=None) -> None:
    code, year = entry.township_id, entry.batch.year
    _record("pilot_delete", user, entry, entry)
    entry.delete()
    ports.facts_changed(township_codes=[code], from_period=year)


@transaction.atomic
def withdraw_pilot(*, entry: PilotTownship, year: int, user=None) -> PilotTownship:
    """The township leaves the programme's pilots from school year `year` on."""
    entry = PilotTownship.objects.select_for_update().select_related("batch").get(pk=entry.pk)
    entry.status, entry.withdrawn_in = PilotStatus.WITHDRAWN, year
    return save_pilot_entry(entry=entry, user=user)


def _record(action: str, user, entry: PilotTownship, before: PilotTownship | None) -> None:
    from security.audit import record

    def state(e):
        return None if e is None else {"phase": e.phase, "status": e.status, "accepted_in": e.accepted_in, "withdrawn_in": e.withdrawn_in}

    record(action=action, user=user, target=f"pilot:{entry.batch_id}:{entry.township_id}", area=entry.township_id,
           detail={"before": state(before), "after": state(entry) if action != "pilot_delete" else None})


@transaction.atomic
def decide_pilot(*, entry: PilotTownship, outcome: str, year: int, user=None) -> PilotTownship:
    """The province's decision at the end of a pilot's period, on the evaluation of school year
    `year`: accepted in that year; withdrawn from the next year on; extended (in progress again,
    neither accepted nor withdrawn). Checked and recomputed like every other change."""
    entry = PilotTownship.objects.select_for_update().select_related("batch").get(pk=entry.pk)
    if outcome == PilotStatus.ACCEPTED:
        entry.status, entry.accepted_in, entry.withdrawn_in = PilotStatus.ACCEPTED, year, None
    elif outcome == PilotStatus.WITHDRAWN:
        entry.status, entry.accepted_in, entry.withdrawn_in = PilotStatus.WITHDRAWN, None, year + 1
    else:
        entry.status, entry.accepted_in, entry.withdrawn_in = PilotStatus.ACTIVE, None, None
    return save_pilot_entry(entry=entry, user=user)
