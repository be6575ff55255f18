"""Commit: the one transaction in which an upload becomes data — all or nothing.

Owns the transaction and the refusals (an upload committed already or by someone else, a file with
errors, implausible changes without a reason), the writes in sheet order (writing.py), the
confirmed flags, the planner's statistics after a bulk load, the audit entry, and queueing the
roll-up of the touched 乡镇 once the transaction commits. The outcome it writes is evaluated
inside the same transaction, so nothing stored in between can slip past the checks.
"""
from __future__ import annotations

from operator import attrgetter

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.private_files import read_bytes
from evaluation.models import ConfirmedFlag, HelpRelation, ImportRun, ImportStatus, SchoolYear, TownshipYear
from townships.jurisdiction import Jurisdiction
from townships.models import School

from . import columns as c
from .pipeline import collector_paused, evaluate, record_outcome
from .records import ImportRefused, Outcome
from .writing import WRITERS


def commit_kept(*, run: ImportRun, user, jurisdiction: Jurisdiction, confirmations: dict[str, str] | None) -> ImportRun:
    """Commit a previewed upload from its kept original; raises ImportRefused (nothing written)."""
    with collector_paused(), transaction.atomic():
        # Locked to the end of the transaction: two commits of one upload cannot both pass.
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.status == ImportStatus.COMMITTED:
            raise ImportRefused(_("This upload has already been committed."))
        if run.uploaded_by_id != user.pk:
            raise ImportRefused(_("Only the person who uploaded the file can commit it."))
        outcome = evaluate(read_bytes(run.stored_as), jurisdiction, run=None)
        refusal = write_outcome(run=run, outcome=outcome, user=user, confirmations=confirmations)
    # Raised after the transaction: the history row keeps why it was refused.
    if refusal:
        raise ImportRefused(refusal)
    return run


def commit_data(*, run: ImportRun, data: bytes, user, jurisdiction: Jurisdiction, confirmations: dict[str, str] | None,
                confirm_all: str | None) -> ImportRun:
    """Check and commit in one step (command line, API); a refusal is only recorded on the run."""
    with collector_paused(), transaction.atomic():
        outcome = evaluate(data, jurisdiction, run=None)
        if confirm_all:
            confirmations = {f.id: confirm_all for f in outcome.flags}
        write_outcome(run=run, outcome=outcome, user=user, confirmations=confirmations)
    return run


def write_outcome(*, run: ImportRun, outcome: Outcome, user, confirmations: dict[str, str] | None) -> str | None:
    """Write the outcome if it may be written; otherwise record why not and return that message.
    Domain rows are written only after every check has passed."""
    record_outcome(run, outcome)
    refusal = None
    confirmations = {k: (v or "").strip() for k, v in (confirmations or {}).items()}
    missing = [f for f in outcome.flags if not confirmations.get(f.id)]
    if outcome.errors:
        run.status = ImportStatus.INVALID
        refusal = _("The file has %(n)d errors; nothing was written.") % {"n": len(outcome.errors)}
    elif missing:
        run.status = ImportStatus.PREVIEWED
        refusal = _("%(n)d implausible changes need a confirmation with a reason; nothing was written.") % {"n": len(missing)}
    if refusal:
        run.message = refusal
        run.progress = 100
        run.save()
        return refusal
    places = _school_places(outcome)
    run.changes = _write(outcome, run)
    moved_from = _follow_school_changes(outcome, places)
    _refresh_statistics(outcome)
    ConfirmedFlag.objects.bulk_create(
        [
            ConfirmedFlag(
                run=run,
                township_id=f.township,
                subject=f.subject[:120],
                period=f.period,
                field=f.header[:60],
                previous=f.previous[:40],
                value=f.value[:40],
                reason=confirmations[f.id],
                confirmed_by=user,
            )
            for f in outcome.flags
        ]
    )
    _queue_downstream(outcome, moved_from)
    run.status = ImportStatus.COMMITTED
    run.committed_at = timezone.now()
    run.committed_by = user
    run.progress = 100
    run.message = ""
    run.save()
    from security.audit import record

    record(action="upload_commit", user=user, target=f"import:{run.pk} {run.file_name}"[:200], area=run.scope_code,
           detail={"counts": [s.counts() for s in outcome.sheets], "flags_confirmed": len(outcome.flags)})
    return None


def _write(outcome: Outcome, run: ImportRun) -> dict:
    """Upsert every sheet's new and changed rows; returns the full list of changes for the history row."""
    changes = {"new": [], "changed": []}
    for sheet in outcome.sheets:  # in SHEET_ORDER: schools exist before their yearly rows
        if sheet.new or sheet.changed:
            WRITERS[sheet.parsed.spec.kind](new=sheet.new, changed=sheet.changed, present=sheet.parsed.present, run=run)
        kind = sheet.parsed.spec.kind
        # [kind, *key] for each new row, built in C (30,000 rows on a first upload).
        changes["new"] += map(list, map((kind,).__add__, map(attrgetter("key"), sheet.new)))
        changes["changed"].extend(sheet.cell_changes)
    return changes


def _school_places(outcome: Outcome) -> dict[str, str]:
    """Where the schools the school list changes are now (code → township), before it is written."""
    codes = [ch.values["school_code"] for sheet in outcome.sheets if sheet.parsed.spec.kind == c.SCHOOLS.kind for ch in sheet.changed]
    return dict(School.objects.filter(code__in=codes).values_list("code", "township_id")) if codes else {}


def _follow_school_changes(outcome: Outcome, places: dict[str, str]) -> set[str]:
    """A school moved to another 乡镇 takes its yearly facts and the help it receives along: their
    township codes are copies of the school's, which the roll-up groups by. Returns the 乡镇 the
    moved schools left (their results change too)."""
    moves: dict[str, list[str]] = {}
    for sheet in outcome.sheets:
        if sheet.parsed.spec.kind == c.SCHOOLS.kind:
            for ch in sheet.changed:
                before = places.get(ch.values["school_code"])
                if before is not None and before != ch.township_code:
                    moves.setdefault(ch.township_code, []).append(ch.values["school_code"])
    for township, codes in moves.items():
        ids = School.objects.filter(code__in=codes).values("id")
        SchoolYear.objects.filter(school_id__in=ids).update(township_id=township)
        HelpRelation.objects.filter(helped_id__in=ids).update(township_id=township)
    return {places[code] for codes in moves.values() for code in codes}


def _queue_downstream(outcome: Outcome, moved_from: set[str]) -> None:
    """Once the transaction commits, recompute the results of the 乡镇 the upload touched: the
    years in its rows, and for a changed school list (stage, flags, township) every year the
    schools have facts for — each with every later year, which reads it."""
    periods, towns, schools = set(), set(moved_from), []
    for sheet in outcome.sheets:
        for ch in sheet.new + sheet.changed:
            if ch.period:
                periods.add(ch.period)
            if ch.township_code:
                towns.add(ch.township_code)
        if sheet.parsed.spec.kind == c.SCHOOLS.kind:
            schools += [ch.values["school_code"] for ch in sheet.changed]
    if schools:
        periods |= set(SchoolYear.objects.filter(school__code__in=schools).values_list("period", flat=True).distinct())
    if periods and towns:
        from evaluation.services.rollup_jobs import queue_rollup_on_commit

        queue_rollup_on_commit(periods=periods, township_codes=towns)


# The table each sheet writes, and the columns the roll-up joins and groups it by.
ANALYZED = {
    c.SCHOOLS.kind: (School, ("id", "code", "township_id")),
    c.SCHOOL_YEARS.kind: (SchoolYear, ("school_id", "period", "township_id")),
    c.TOWNSHIP_YEARS.kind: (TownshipYear, ("township_id", "period")),
    c.HELP_RELATIONS.kind: (HelpRelation, ("helper_id", "helped_id", "period", "township_id")),
}


def _refresh_statistics(outcome: Outcome) -> None:
    """After a bulk load PostgreSQL's planner still believes the tables hold what they held before,
    and the roll-up queued next would pick nested loops that cost minutes. Only the tables this
    upload wrote changed. ANALYZE of a few columns still sets the table's row count, and costs a
    fifth of analysing all thirty; autovacuum refreshes the value columns' statistics later."""
    if connection.vendor != "postgresql" or sum(len(s.new) + len(s.changed) for s in outcome.sheets) <= 5000:
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for sheet in outcome.sheets:
            if sheet.new or sheet.changed:
                model, columns = ANALYZED[sheet.parsed.spec.kind]
                cursor.execute(f"ANALYZE {qn(model._meta.db_table)} ({', '.join(qn(col) for col in columns)})")
