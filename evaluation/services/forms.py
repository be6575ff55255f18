"""Rounds, assignments and the inspectors' team form: draft, autosave, submit, return."""
from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core import ports
from core.private_files import FileRefused, store_private_file
from evaluation.models import (
    Assignment,
    Evidence,
    FormChange,
    FormEvent,
    FormStatus,
    InspectionForm,
    Judgment,
    JudgmentLevel,
    ObservationPoint,
    Round,
    RoundTownship,
    SourceKind,
)
from evaluation.selectors import forms_for, team_scoped
from evaluation.services.rollup_jobs import queue_rollup_on_commit
from security.audit import record as audit
from townships.jurisdiction import Jurisdiction
from townships.models import Role


class FormRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@transaction.atomic
def create_round(*, name: str, period: int, framework, township_codes: list[str], created_by, due_on=None, opens_on=None) -> Round:
    """A round for one school year over the given townships; its framework is frozen from now on."""
    if not created_by.is_provincial:
        raise FormRefused(_("Only provincial staff can create evaluation rounds."))
    framework.frozen = True
    framework.save(update_fields=["frozen"])
    rnd = Round.objects.create(name=name, period=period, framework=framework, created_by=created_by, due_on=due_on, opens_on=opens_on)
    add_round_townships(round=rnd, township_codes=township_codes)
    # The round has verdicts of its own in every county of the year (by its version, whose data
    # points a county may not have had yet): all of them are computed once it is committed.
    from evaluation.rollup import counties_holding

    queue_rollup_on_commit(periods=[period], township_codes=counties_holding(created_by.unit_id or ""))
    return rnd


@transaction.atomic
def add_round_townships(*, round: Round, township_codes: list[str]) -> int:
    """Add townships to a round (those already in it are left as they are)."""
    existing = set(round.townships.values_list("township_id", flat=True))
    added = RoundTownship.objects.bulk_create([RoundTownship(round=round, township_id=code) for code in sorted(set(township_codes) - existing)])
    if added:
        # Their judgments count (as lacking until a form is submitted) in their counties' verdicts.
        queue_rollup_on_commit(periods=[round.period], township_codes=[rt.township_id for rt in added])
    return len(added)


@transaction.atomic
def assign_team(*, round: Round, township_code: str, inspectors: list, lead) -> InspectionForm:
    """Assign a team (with its lead) to a township of the round and open its form."""
    if not round.townships.filter(township_id=township_code).exists():
        raise FormRefused(_("The township is not covered by this round."))
    if lead.pk not in {user.pk for user in inspectors}:
        raise FormRefused(_("The team's lead must be one of its inspectors."))
    for user in inspectors:
        if user.role != Role.INSPECTOR:
            raise FormRefused(_("Only inspectors can be assigned."))
        Assignment.objects.update_or_create(
            round=round, township_id=township_code, inspector=user, defaults={"is_lead": user.pk == lead.pk}
        )
    # One lead per team: whoever led before and is not the lead now is a member.
    Assignment.objects.filter(round=round, township_id=township_code, is_lead=True).exclude(inspector=lead).update(is_lead=False)
    form = open_form(round=round, township_code=township_code)
    _notify(users=inspectors, kind="assignment", title=_("You are assigned to %(township)s in %(round)s") % {"township": _township_name(township_code), "round": round.name},
            url=f"/data/inspect/{form.pk}/", key=f"assignment:{round.pk}:{township_code}")
    return form


def _township_name(code: str) -> str:
    from townships.models import Division

    town = Division.objects.select_related("parent").filter(code=code).first()
    return f"{town.parent.name}{town.name}" if town else code


def _notify(**kwargs) -> None:
    # The workflow app keeps the notifications (it plugs into the port); evaluation only sends them.
    ports.notify(**kwargs)


def open_form(*, round: Round, township_code: str) -> InspectionForm:
    form, created = InspectionForm.objects.get_or_create(round=round, township_id=township_code)
    if created:
        points = ObservationPoint.objects.filter(target__framework=round.framework, source_kind=SourceKind.JUDGMENT)
        Judgment.objects.bulk_create([Judgment(form=form, point=p) for p in points])
    return form


def refuse_if_locked(form: InspectionForm) -> None:
    """An approval up the levels locks the township's data and forms for the round's year."""
    from core.ports import locked

    period = _period(form)
    message = locked({(form.township_id, period)}).get((form.township_id, period))
    if message:
        raise FormRefused(message)


def _period(form: InspectionForm) -> int:
    # The locked read brings the round's school year along; a form read otherwise has its round.
    period = getattr(form, "round_period", None)
    return period if period is not None else form.round.period


def _assignment(form: InspectionForm, user) -> Assignment | None:
    return Assignment.objects.filter(round_id=form.round_id, township_id=form.township_id, inspector=user).first()


_FORM_COLUMNS = ("id", "round_id", "township_id", "status", "version", "submitted_at", "submitted_by_id", "updated_at")
_MAX_ID = 2**63 - 1


def _locked_form(form: InspectionForm | int | str, user, jurisdiction: Jurisdiction | None) -> InspectionForm:
    """The form locked for the write, with what the write decides by: its round's school year
    (`round_period`), the user's place in its team (`assigned`, any member; `leads`, the lead)
    and whether the township's year is locked (`data_locked`; None: not asked, ask the port).
    With the caller's `jurisdiction`, the form is read among the user's forms (`forms_for`): one
    outside them is InspectionForm.DoesNotExist, as a missing one.

    For an inspector — the only ones who save — `forms_for` is "the forms of my team", so
    scoping, team, version and data lock are one statement, written out: built through the ORM
    it cost more than the rest of the save together (the Exists subqueries' compilation). Anyone
    else goes through `forms_for` itself (and is refused a save anyway: not on the team)."""
    form_id = form.pk if isinstance(form, InspectionForm) else form
    if jurisdiction is not None and not team_scoped(user):
        forms = forms_for(user=user, jurisdiction=jurisdiction)
        team = Assignment.objects.filter(round_id=OuterRef("round_id"), township_id=OuterRef("township_id"), inspector_id=user.pk)
        locked_form = (
            forms.select_related(None).order_by().select_for_update(of=("self",))
            .annotate(assigned=Exists(team), leads=Exists(team.filter(is_lead=True)), round_period=F("round__period"))
            .get(pk=form_id)
        )
        locked_form.data_locked = None
        return locked_form
    try:
        form_id = int(form_id)
    except (TypeError, ValueError):
        raise InspectionForm.DoesNotExist from None
    if not 0 < form_id <= _MAX_ID:
        raise InspectionForm.DoesNotExist
    q = connection.ops.quote_name
    f, r, a = q(InspectionForm._meta.db_table), q(Round._meta.db_table), q(Assignment._meta.db_table)
    sql = (
        f"SELECT {', '.join(f'{f}.{c}' for c in _FORM_COLUMNS)}, {r}.period, {a}.id, {a}.is_lead, "
        f"{ports.lock_sql(township=f'{f}.township_id', period=f'{r}.period')} "
        f"FROM {f} INNER JOIN {r} ON {r}.id = {f}.round_id "
        # The user's assignment to the form's team (one at most: unique_assignment). Scoped (a
        # jurisdiction given): the inspector's teams only, as forms_for says for an inspector — a
        # form of another team is neither read nor locked.
        f"{'INNER' if jurisdiction is not None else 'LEFT OUTER'} JOIN {a} ON {a}.round_id = {f}.round_id AND {a}.township_id = {f}.township_id AND {a}.inspector_id = %s "
        f"WHERE {f}.id = %s"
        + (f" FOR UPDATE OF {f}" if connection.features.has_select_for_update_of else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, form_id])
        row = cursor.fetchone()
    if row is None:
        raise InspectionForm.DoesNotExist
    n = len(_FORM_COLUMNS)
    locked_form = InspectionForm.from_db(connection.alias, list(_FORM_COLUMNS), _from_db(row[:n]))
    locked_form.round_period = row[n]
    locked_form.assigned, locked_form.leads, locked_form.data_locked = row[n + 1] is not None, bool(row[n + 2]), bool(row[n + 3])
    return locked_form


def _from_db(values) -> list:
    # As the ORM reads the columns (SQLite hands datetimes back as text).
    converted = []
    for name, value in zip(_FORM_COLUMNS, values, strict=True):
        field = InspectionForm._meta.get_field(name)
        col = field.get_col(InspectionForm._meta.db_table)
        for converter in connection.ops.get_db_converters(col) + field.get_db_converters(connection):
            value = converter(value, col, connection)
        converted.append(value)
    return converted


def _refuse_if_data_locked(form: InspectionForm) -> None:
    # The locked read said whether the year is locked; the port's message is read only then.
    if form.data_locked is None or form.data_locked:
        refuse_if_locked(form)


@transaction.atomic
def save_draft(*, form: InspectionForm | int | str, user, version: int, answers: dict[str, dict],
               jurisdiction: Jurisdiction | None = None) -> InspectionForm:
    """Save judgments {point code: {"level": …, "comment": …}} made from form `version`.

    A save from an older version is refused, saying what changed meanwhile, so two tabs or a
    double click never overwrite each other's work. A draft changes no result: no roll-up is
    queued and no page's results token changes (township pages show a team's judgments once
    the lead has submitted). The least a write needs: one statement reading the form locked
    with the right to write it, its version and the data lock (among the user's forms when the
    caller gives its `jurisdiction`, see `_locked_form`), one reading the judgments; then the
    changed judgments, their log, the audit row and the new version.
    """
    form = _locked_form(form, user, jurisdiction)
    if not form.assigned:
        raise FormRefused(_("You are not assigned to this township."))
    if form.status == FormStatus.SUBMITTED:
        raise FormRefused(_("The form has been submitted and is locked."))
    _refuse_if_data_locked(form)
    if version != form.version:
        changes = FormChange.objects.filter(form=form, version__gt=version).select_related("point", "user")
        described = "；".join(f"{c.point.code} {c.user.get_username()}" for c in changes[:10])
        raise FormRefused(
            _("The form was changed by someone else since you opened it (%(changes)s). Reload it and make your change again.")
            % {"changes": described or _("saved again")}
        )
    # Plain rows, written out (the ORM's compilation cost more than the statement): the code to
    # match the answers, the two fields to compare.
    q = connection.ops.quote_name
    j, p = q(Judgment._meta.db_table), q(ObservationPoint._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {j}.id, {j}.point_id, {p}.code, {j}.level, {j}.comment FROM {j} INNER JOIN {p} ON {p}.id = {j}.point_id WHERE {j}.form_id = %s", [form.pk])
        judgments = {code: (pk, point_id, level, comment) for pk, point_id, code, level, comment in cursor.fetchall()}
    new_version = form.version + 1
    log, changed = [], {}
    for code, answer in answers.items():
        judgment = judgments.get(code)
        if judgment is None:
            raise FormRefused(_("Unknown observation point %(code)s.") % {"code": code})
        pk, point_id, old_level, old_comment = judgment
        level = (answer.get("level") or "").strip()
        if level and level not in JudgmentLevel.values:
            raise FormRefused(_("Unknown level for %(code)s.") % {"code": code})
        comment = (answer.get("comment") or "").strip()[:5000]
        now = {"level": old_level, "comment": old_comment}
        for field, value, old in (("level", level, old_level), ("comment", comment, old_comment)):
            if field in answer and old != value:
                log.append((code, FormChange(form_id=form.pk, point_id=point_id, field=field, old=old, new=value, version=new_version, user=user)))
                now[field] = value
        if now["level"] != old_level or now["comment"] != old_comment:
            changed[pk] = (now["level"], now["comment"])
    if log:
        _update_judgments(changed)
        FormChange.objects.bulk_create([change for _code, change in log])
        audit(action="form_change", user=user, target=f"inspection-form:{form.pk}", area=form.township_id,
              detail={f"{code}.{c.field}": [c.old, c.new] for code, c in log})
        # The row is locked to the commit: the new version is known without reading it back.
        form.version, form.updated_at = new_version, timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {q(InspectionForm._meta.db_table)} SET version = %s, updated_at = %s WHERE id = %s",
                           [form.version, connection.ops.adapt_datetimefield_value(form.updated_at), form.pk])
    return form


def _update_judgments(changed: dict[int, tuple[str, str]]) -> None:
    """One UPDATE of the changed judgments' level and comment. Written out: Django's bulk_update
    builds a CASE expression per field and row through the ORM, which cost more than the write
    (an autosave changes one comment; a whole form a dozen rows)."""
    table = connection.ops.quote_name(Judgment._meta.db_table)
    ids = list(changed)
    if len(ids) == 1:
        sql, params = f"UPDATE {table} SET level = %s, comment = %s WHERE id = %s", [*changed[ids[0]], ids[0]]
    else:
        cases = " ".join("WHEN %s THEN %s" for _ in ids)
        sql = f"UPDATE {table} SET level = CASE id {cases} END, comment = CASE id {cases} END WHERE id IN ({', '.join('%s' for _ in ids)})"
        params = [v for pk in ids for v in (pk, changed[pk][0])] + [v for pk in ids for v in (pk, changed[pk][1])] + ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def submit_form(*, form: InspectionForm | int | str, user, version: int, jurisdiction: Jurisdiction | None = None) -> InspectionForm:
    """Submit the team's form (the lead, every point judged) from `version`, exactly once: the
    form row is locked first, so of two submits at once the second sees it submitted. Scoped by
    the caller's `jurisdiction` as `save_draft` is."""
    form = _locked_form(form, user, jurisdiction)
    if not form.assigned:
        raise FormRefused(_("You are not assigned to this township."))
    if not form.leads:
        raise FormRefused(_("Only the team lead can submit the team's form."))
    if form.status == FormStatus.SUBMITTED:
        raise FormRefused(_("The form has already been submitted."))
    if version != form.version:
        raise FormRefused(_("The form was changed since you opened it. Reload it before submitting."))
    missing = [j.point for j in form.judgments.select_related("point").order_by("point__target__number", "point__order") if not j.level]
    if missing:
        raise FormRefused(
            _("Give a level for every point before submitting. Missing: %(points)s") % {"points": "、".join(f"{p.code} {p.name}" for p in missing)}
        )
    form.status = FormStatus.SUBMITTED
    form.submitted_at = timezone.now()
    form.submitted_by = user
    form.version += 1
    form.save(update_fields=["status", "submitted_at", "submitted_by", "version", "updated_at"])
    FormEvent.objects.create(form=form, action="submit", user=user)
    audit(action="form_submit", user=user, target=f"inspection-form:{form.pk}", area=form.township_id)
    _queue_judgments_rollup(form)
    return form


def _queue_judgments_rollup(form: InspectionForm) -> None:
    # A submitted form counts in the results, a returned one no longer does — in its own round
    # only; the roll-up gives the township's pages their new token when the judgments are in.
    queue_rollup_on_commit(periods=[_period(form)], township_codes=[form.township_id], judgments_only=True, round_keys=[form.round_id])


@transaction.atomic
def return_form(*, form: InspectionForm, user, reason: str) -> InspectionForm:
    form = InspectionForm.objects.select_for_update().get(pk=form.pk)
    if not user.is_provincial:
        raise FormRefused(_("Only provincial staff can return a submitted form."))
    if form.status != FormStatus.SUBMITTED:
        raise FormRefused(_("Only a submitted form can be returned."))
    refuse_if_locked(form)
    if not reason.strip():
        raise FormRefused(_("Give the reason for returning the form."))
    form.status = FormStatus.RETURNED
    form.version += 1
    form.save()
    FormEvent.objects.create(form=form, action="return", reason=reason.strip(), user=user)
    team = [a.inspector for a in Assignment.objects.filter(round_id=form.round_id, township_id=form.township_id).select_related("inspector")]
    _notify(users=team, kind="form_return", title=_("The form for %(township)s was returned") % {"township": _township_name(form.township_id)},
            body=reason.strip(), url=f"/data/inspect/{form.pk}/", key=f"form_return:{form.pk}:{form.version}")
    audit(action="form_return", user=user, target=f"inspection-form:{form.pk}", area=form.township_id, detail={"reason": reason.strip()})
    _queue_judgments_rollup(form)
    return form


# Evidence: type decided by content; stored privately under a generated name.
@transaction.atomic
def add_evidence(*, judgment: Judgment, user, data: bytes, file_name: str) -> Evidence:
    form = judgment.form
    if _assignment(form, user) is None:
        raise FormRefused(_("You are not assigned to this township."))
    if form.status == FormStatus.SUBMITTED:
        raise FormRefused(_("The form has been submitted and is locked."))
    refuse_if_locked(form)
    try:
        stored = store_private_file(data=data, file_name=file_name, folder="evidence")
    except FileRefused as e:
        raise FormRefused(e.message) from None
    return Evidence.objects.create(
        judgment=judgment,
        township_id=form.township_id,
        file_name=stored["file_name"],
        content_type=stored["content_type"],
        size=stored["size"],
        sha256=stored["sha256"],
        stored_as=stored["stored_as"],
        uploaded_by=user,
    )


def round_township_codes(*, batch_ids=(), city_codes=(), sample: int | None = None, seed: str = "") -> list[str]:
    """The 乡镇 a round covers: the pilots of some batches and/or every 乡/镇 of some cities,
    optionally a deterministic sample of them (the same seed gives the same sample)."""
    import hashlib

    from townships.models import PROGRAMME_KINDS, Division, Level, PilotTownship

    codes: set[str] = set()
    if batch_ids:
        codes |= set(PilotTownship.objects.filter(batch_id__in=batch_ids).values_list("township_id", flat=True))
    for city in city_codes:
        codes |= set(Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS, code__startswith=city).values_list("code", flat=True))
    ordered = sorted(codes, key=lambda c: hashlib.sha256(f"{seed}|{c}".encode()).hexdigest())
    return sorted(ordered[:sample] if sample else ordered)
