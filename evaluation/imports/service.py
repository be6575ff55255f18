"""Preview and commit of an uploaded file — all or nothing.

preview: read, validate, check scope and references, diff against stored rows, flag implausible
changes; writes only the history row (ImportRun), never domain data, and queues nothing.
commit: the same from the kept original file, then — only if there is no error and every flag is
confirmed with a reason — one transaction that upserts the new and changed rows.
"""
from __future__ import annotations

import gc
import hashlib
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.locks import locked
from evaluation.models import ConfirmedFlag, HelpRelation, ImportRun, ImportStatus, SchoolYear, TownshipYear
from townships.jurisdiction import Jurisdiction
from townships.models import Division, Level, School

from . import columns as c
from .reading import FileRefused, read_workbook
from .validation import ParsedSheet, RowError, parse_sheet

SHEET_ORDER = [c.SCHOOLS.kind, c.SCHOOL_YEARS.kind, c.TOWNSHIP_YEARS.kind, c.HELP_RELATIONS.kind]
MAX_SHOWN_CHANGES = 2000
CHUNK = 900


class ImportRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Flag:
    id: str
    sheet: str
    row: int
    subject: str
    township: str
    period: int
    field: str
    header: str
    previous: str
    value: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class SheetOutcome:
    parsed: ParsedSheet
    new: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    unchanged: int = 0
    cell_changes: list[list] = field(default_factory=list)  # [subject, header, old, new]
    flags: list[Flag] = field(default_factory=list)

    def counts(self) -> dict:
        return {
            "sheet": self.parsed.name,
            "kind": self.parsed.spec.kind,
            "title": self.parsed.spec.title,
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "invalid": len(self.parsed.invalid_rows),
        }


@dataclass
class Outcome:
    sheets: list[SheetOutcome]
    errors: list[RowError]

    @property
    def flags(self) -> list[Flag]:
        return [f for s in self.sheets for f in s.flags]


# ---------------------------------------------------------------------------------------------
# Entry points

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_resume = False


@contextmanager
def _collector_paused():
    """A large upload allocates millions of cells and records that all live until it ends; the
    cyclic collector would walk them over and over and find nothing to free (a fifth of the time
    of a 30,000-row file). Paused while any upload of this process runs, then restored."""
    global _gc_pauses, _gc_resume
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_resume:
                gc.enable()


def store_upload(*, user, jurisdiction: Jurisdiction, data: bytes, file_name: str, channel: str) -> ImportRun:
    """Keep the original file (named by its hash, never by the user's file name) and open a history row."""
    digest = hashlib.sha256(data).hexdigest()
    relative = f"imports/{digest[:2]}/{digest}.bin"
    path = Path(settings.PRIVATE_MEDIA_ROOT) / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return ImportRun.objects.create(
        uploaded_by=user,
        scope_code=_scope_code(user, jurisdiction),
        channel=channel,
        file_name=Path(file_name).name[:255] or "upload",
        sha256=digest,
        size=len(data),
        stored_as=relative,
    )


def stored_bytes(run: ImportRun) -> bytes:
    return (Path(settings.PRIVATE_MEDIA_ROOT) / run.stored_as).read_bytes()


def preview_import(*, run: ImportRun, jurisdiction: Jurisdiction) -> ImportRun:
    with _collector_paused():
        return _preview_import(run=run, jurisdiction=jurisdiction)


def _preview_import(*, run: ImportRun, jurisdiction: Jurisdiction) -> ImportRun:
    run.status = ImportStatus.RUNNING
    run.progress = 10
    run.save(update_fields=["status", "progress"])
    outcome = _evaluate(stored_bytes(run), jurisdiction, run=run)
    _record_outcome(run, outcome)
    run.status = ImportStatus.INVALID if outcome.errors else ImportStatus.PREVIEWED
    run.progress = 100
    run.save()
    return run


def commit_import(*, run: ImportRun, user, jurisdiction: Jurisdiction, confirmations: dict[str, str] | None = None) -> ImportRun:
    """Commit a previewed upload from its kept file, re-checked against the data as it is now.

    Raises ImportRefused when anything is wrong; then no domain data was written (the history row
    records why).
    """
    # The collector resumes before the transaction ends: the work queued on commit is not ours.
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.status == ImportStatus.COMMITTED:
            raise ImportRefused(_("This upload has already been committed."))
        if run.uploaded_by_id != user.pk:
            raise ImportRefused(_("Only the person who uploaded the file can commit it."))
        with _collector_paused():
            outcome = _evaluate(stored_bytes(run), jurisdiction, run=None)
            refusal = _commit_outcome(run=run, outcome=outcome, user=user, confirmations=confirmations)
    if refusal:
        raise ImportRefused(refusal)
    return run


def import_file(
    *,
    user,
    jurisdiction: Jurisdiction,
    data: bytes,
    file_name: str,
    channel: str,
    dry_run: bool,
    confirmations: dict[str, str] | None = None,
    confirm_all: str | None = None,
) -> ImportRun:
    """One step for the command line, the API and forms: check once, and commit unless it is a dry
    run, the file has errors (status invalid) or implausible changes lack a reason (status
    previewed); run.message says why it was not committed."""
    run = store_upload(user=user, jurisdiction=jurisdiction, data=data, file_name=file_name, channel=channel)
    if dry_run:
        return preview_import(run=run, jurisdiction=jurisdiction)
    with transaction.atomic(), _collector_paused():
        outcome = _evaluate(data, jurisdiction, run=None)
        if confirm_all:
            confirmations = {f.id: confirm_all for f in outcome.flags}
        _commit_outcome(run=run, outcome=outcome, user=user, confirmations=confirmations)
    return run


def _commit_outcome(*, run: ImportRun, outcome: Outcome, user, confirmations: dict[str, str] | None) -> str | None:
    """Write the outcome if it may be written; otherwise record why not and return that message.
    Domain rows are written only after every check has passed."""
    _record_outcome(run, outcome)
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
    run.changes = _write(outcome, run)
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
    _queue_downstream(outcome)
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


# ---------------------------------------------------------------------------------------------
# Evaluation (no writes)


def _scope_code(user, jurisdiction: Jurisdiction) -> str:
    if jurisdiction.everything:
        return ""
    return user.unit_id or ""


def _evaluate(data: bytes, jurisdiction: Jurisdiction, run: ImportRun | None) -> Outcome:
    try:
        raw_sheets = read_workbook(data)
    except FileRefused as e:
        return Outcome(sheets=[], errors=[RowError("", None, "", "", str(e))])
    parsed = [p for p in (parse_sheet(s) for s in raw_sheets) if p is not None]
    if not parsed:
        return Outcome(
            sheets=[],
            errors=[RowError("", None, "", "", _("No sheet has the template's headers (for example “学校标识码” and “学年”)."))],
        )
    by_kind: dict[str, ParsedSheet] = {}
    errors: list[RowError] = []
    for p in parsed:
        errors.extend(p.errors)
        if p.spec.kind in by_kind:
            errors.append(RowError(p.name, None, "", "", _("a second sheet of the same kind; put all rows in one sheet")))
        by_kind.setdefault(p.spec.kind, p)
    if run is not None:
        run.progress = 40
        run.save(update_fields=["progress"])
    ctx = _Context(jurisdiction)
    outcomes = []
    for kind in SHEET_ORDER:
        sheet = by_kind.get(kind)
        # A sheet whose headers are wrong has no rows to check further.
        if sheet is not None and not any(e.row is None for e in sheet.errors):
            before = len(sheet.errors)
            outcome = DIFFERS[kind](sheet, ctx)
            _refuse_locked(outcome)
            errors.extend(sheet.errors[before:])
            outcomes.append(outcome)
    return Outcome(sheets=outcomes, errors=errors)


# Which record fields place a row of each period-bound sheet (township code, school year).
LOCK_KEYS = {
    c.SCHOOL_YEARS.kind: ("_township", "period"),
    c.TOWNSHIP_YEARS.kind: ("township_code", "period"),
    c.HELP_RELATIONS.kind: ("_township", "period"),
}


def _refuse_locked(outcome: SheetOutcome) -> None:
    """A row that would change data locked by an approval is an error naming the lock; rows whose
    locked values are unchanged are not (they are neither new nor changed)."""
    fields = LOCK_KEYS.get(outcome.parsed.spec.kind)
    if fields is None:
        return
    rows = outcome.new + outcome.changed
    locks = locked((r[fields[0]], r[fields[1]]) for r in rows)
    if not locks:
        return
    code_col = outcome.parsed.spec.columns[0]
    for r in rows:
        message = locks.get((r[fields[0]], r[fields[1]]))
        if message:
            outcome.parsed.error(r["_row"], code_col, r.get(code_col.key), message)


class _Context:
    """What the checks need from the database, each fetched once, scoped to the jurisdiction."""

    def __init__(self, jurisdiction: Jurisdiction):
        self.jurisdiction = jurisdiction
        self._schools = None
        self._townships = None
        self.pending_schools: dict[str, dict] = {}  # valid rows of the file's own schools sheet

    @property
    def schools(self) -> dict[str, tuple[int, str, str]]:
        """code → (id, township code, name) for schools inside the jurisdiction."""
        if self._schools is None:
            qs = self.jurisdiction.filter(School.objects.all(), "township").values_list("code", "id", "township_id", "name")
            self._schools = {code: (pk, township, name) for code, pk, township, name in qs.iterator(chunk_size=5000)}
        return self._schools

    @property
    def townships(self) -> dict[str, str]:
        if self._townships is None:
            qs = self.jurisdiction.filter(Division.objects.filter(level=Level.TOWNSHIP), "code").values_list("code", "name")
            self._townships = dict(qs)
        return self._townships


def _duplicates(sheet: ParsedSheet) -> None:
    first_row: dict[tuple, int] = {}
    for record in sheet.records:
        key = tuple(record.get(k) for k in sheet.spec.key)
        if None in key:
            continue
        if key in first_row:
            sheet.error(
                record["_row"],
                sheet.spec.column(sheet.spec.key[0]),
                record[sheet.spec.key[0]],
                _("the same row appears twice in the file (first at row %(row)d)") % {"row": first_row[key]},
            )
        else:
            first_row[key] = record["_row"]


def _display(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _same(old, new) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return old is not None and new is not None and Decimal(old) == Decimal(new)
    if old == "" and new is None or old is None and new == "":
        return True
    return old == new


def _implausible(old, new, factor: float) -> bool:
    if old is None or new is None:
        return False
    old_f, new_f = float(old), float(new)
    if old_f <= 0:
        return new_f > 0 and old_f == 0 and new_f >= 10 * factor  # 0 → many
    ratio = new_f / old_f
    return ratio > factor or ratio < 1 / factor


def _diff_rows(sheet, outcome, valid, existing, previous, subject_of, township_of, period_of):
    """Shared diff: new / changed / unchanged, changed cells, implausible flags."""
    value_cols = [col for col in sheet.present if col.key in sheet.spec.value_keys]
    flag_cols = [col for col in value_cols if col.implausible]
    factor = float(getattr(settings, "IMPORT_IMPLAUSIBLE_FACTOR", 1.5))
    keys = [col.key for col in value_cols]
    for key, record in valid:
        old = existing.get(key)
        if old is None:
            outcome.new.append(record)
        # One tuple comparison per row; cell by cell only for rows that differ.
        elif tuple(None if old.get(k) == "" else old.get(k) for k in keys) == tuple(record.get(k) for k in keys):
            outcome.unchanged += 1
            continue
        else:
            subject = subject_of(record)
            changed_cells = [
                [subject, col.header, _display(old.get(col.key)), _display(record.get(col.key))]
                for col in value_cols
                if not _same(old.get(col.key), record.get(col.key))
            ]
            if not changed_cells:  # equal after all (e.g. 12.50 vs 12.5)
                outcome.unchanged += 1
                continue
            # Columns the file does not have keep their stored values, so the row can be written whole.
            for k in sheet.spec.value_keys:
                if k not in record:
                    record[k] = None if old.get(k) == "" else old.get(k)
            outcome.changed.append(record)
            outcome.cell_changes.extend(changed_cells)
        last = previous.get(key)
        if last is not None:
            for col in flag_cols:
                if _implausible(last.get(col.key), record.get(col.key), factor):
                    outcome.flags.append(
                        Flag(
                            id=f"{sheet.spec.kind}:{':'.join(str(k) for k in key)}:{col.key}",
                            sheet=sheet.name,
                            row=record["_row"],
                            subject=subject_of(record),
                            township=township_of(record),
                            period=period_of(record),
                            field=col.key,
                            header=col.header,
                            previous=_display(last.get(col.key)),
                            value=_display(record.get(col.key)),
                        )
                    )


def _diff_schools(sheet: ParsedSheet, ctx: _Context) -> SheetOutcome:
    outcome = SheetOutcome(parsed=sheet)
    _duplicates(sheet)
    code_col, town_col = sheet.spec.column("school_code"), sheet.spec.column("township_code")
    records = [r for r in sheet.records if r["school_code"] is not None and r["township_code"] is not None]
    unknown = [r["school_code"] for r in records if r["school_code"] not in ctx.schools]
    taken = set()
    for i in range(0, len(unknown), CHUNK):
        taken.update(School.objects.filter(code__in=unknown[i : i + CHUNK]).values_list("code", flat=True))
    valid = []
    for r in records:
        if r["school_code"] in taken:
            sheet.error(r["_row"], code_col, r["school_code"], _("this school identifier belongs to a school outside your area"))
        elif r["township_code"] not in ctx.townships:
            sheet.error(r["_row"], town_col, r["township_code"], _("no such township-level unit in your area"))
        elif r["_row"] not in sheet.invalid_rows:
            valid.append(((r["school_code"],), r))
    existing = {
        (code,): {"name": name, "stage": stage, "township_code": town, "is_seat": seat, "is_urban": urban, "is_urban_quality": quality}
        for code, name, stage, town, seat, urban, quality in ctx.jurisdiction.filter(School.objects.all(), "township").values_list(
            "code", "name", "stage", "township_id", "is_seat", "is_urban", "is_urban_quality"
        )
    }
    valid = [(k, r) for k, r in valid if r["_row"] not in sheet.invalid_rows]
    _diff_rows(sheet, outcome, valid, existing, {}, lambda r: f"{r['school_code']} {r['name']}", lambda r: r["township_code"], lambda r: 0)
    ctx.pending_schools = {r["school_code"]: r for _k, r in valid}
    return outcome


def _school_ref(ctx: _Context, code: str):
    """(id or None, township code, name) for a school of the area or of the file's own schools sheet."""
    if code in ctx.pending_schools:
        r = ctx.pending_schools[code]
        known = ctx.schools.get(code)
        return (known[0] if known else None, r["township_code"], r["name"])
    return ctx.schools.get(code)


def _this_and_last_year(qs, unit_field: str, fields: list[str], keys: set, code_of) -> tuple[dict, dict]:
    """Stored rows for the file's (unit, period) keys, and the rows of the year before them.
    Tuples, not dicts, from the database: this reads every stored row of the area."""
    existing, previous = {}, {}
    for unit, period, *values in qs.values_list(unit_field, "period", *fields).iterator(chunk_size=5000):
        code = code_of(unit)
        if (code, period) in keys or (code, period + 1) in keys:
            row = dict(zip(fields, values))
            if (code, period) in keys:
                existing[(code, period)] = row
            if (code, period + 1) in keys:
                previous[(code, period + 1)] = row
    return existing, previous


def _diff_school_years(sheet: ParsedSheet, ctx: _Context) -> SheetOutcome:
    outcome = SheetOutcome(parsed=sheet)
    _duplicates(sheet)
    code_col = sheet.spec.column("school_code")
    fields = sorted(sheet.spec.value_keys)
    valid = []
    # References are checked on every row whose code could be read, so all errors come at once.
    for r in sheet.records:
        if r["school_code"] is None:
            continue
        ref = _school_ref(ctx, r["school_code"])
        if ref is None:
            sheet.error(r["_row"], code_col, r["school_code"], _("no such school in your area"))
        elif r["_row"] not in sheet.invalid_rows:
            r["_school_id"], r["_township"], r["_name"] = ref
            valid.append(((r["school_code"], r["period"]), r))
    periods = {r["period"] for _k, r in valid}
    existing, previous = {}, {}
    if valid:
        id_to_code = {v[0]: code for code, v in ctx.schools.items()}
        qs = ctx.jurisdiction.filter(SchoolYear.objects.filter(period__in=periods | {p - 1 for p in periods}), "township")
        existing, previous = _this_and_last_year(qs, "school_id", fields, {k for k, _r in valid}, id_to_code.get)
    _diff_rows(
        sheet,
        outcome,
        valid,
        existing,
        previous,
        lambda r: f"{r['school_code']} {r['_name']} {r['period']}",
        lambda r: r["_township"],
        lambda r: r["period"],
    )
    return outcome


def _diff_township_years(sheet: ParsedSheet, ctx: _Context) -> SheetOutcome:
    outcome = SheetOutcome(parsed=sheet)
    _duplicates(sheet)
    code_col = sheet.spec.column("township_code")
    fields = sorted(sheet.spec.value_keys)
    valid = []
    for r in sheet.records:
        if r["township_code"] is None:
            continue
        if r["township_code"] not in ctx.townships:
            sheet.error(r["_row"], code_col, r["township_code"], _("no such township-level unit in your area"))
        elif r["_row"] not in sheet.invalid_rows:
            valid.append(((r["township_code"], r["period"]), r))
    periods = {r["period"] for _k, r in valid}
    existing, previous = {}, {}
    if valid:
        qs = ctx.jurisdiction.filter(TownshipYear.objects.filter(period__in=periods | {p - 1 for p in periods}), "township")
        existing, previous = _this_and_last_year(qs, "township_id", fields, {k for k, _r in valid}, lambda code: code)
    _diff_rows(
        sheet,
        outcome,
        valid,
        existing,
        previous,
        lambda r: f"{r['township_code']} {ctx.townships[r['township_code']]} {r['period']}",
        lambda r: r["township_code"],
        lambda r: r["period"],
    )
    return outcome


def _diff_help(sheet: ParsedSheet, ctx: _Context) -> SheetOutcome:
    outcome = SheetOutcome(parsed=sheet)
    _duplicates(sheet)
    helper_col, helped_col = sheet.spec.column("helper_code"), sheet.spec.column("helped_code")
    records = [r for r in sheet.records if r["helper_code"] is not None and r["helped_code"] is not None]
    # A helper may be any school (a city school helping across the county line); the helped one
    # must be in the uploader's area.
    helper_codes = sorted({r["helper_code"] for r in records} - set(ctx.schools) - set(ctx.pending_schools))
    outside = {}
    for i in range(0, len(helper_codes), CHUNK):
        outside.update(School.objects.filter(code__in=helper_codes[i : i + CHUNK]).values_list("code", "id"))
    valid = []
    for r in records:
        helped = _school_ref(ctx, r["helped_code"])
        helper = _school_ref(ctx, r["helper_code"])
        helper_id = helper[0] if helper else outside.get(r["helper_code"])
        if helped is None:
            sheet.error(r["_row"], helped_col, r["helped_code"], _("no such school in your area"))
        elif helper is None and r["helper_code"] not in outside:
            sheet.error(r["_row"], helper_col, r["helper_code"], _("no school has this identifier"))
        elif r["helper_code"] == r["helped_code"]:
            sheet.error(r["_row"], helped_col, r["helped_code"], _("a school cannot help itself"))
        elif r["_row"] not in sheet.invalid_rows:
            r["_helper_id"], r["_helped_id"], r["_township"] = helper_id, helped[0], helped[1]
            valid.append(((r["helper_code"], r["helped_code"], r["kind"], r["period"]), r))
    existing = {}
    if valid:
        id_to_code = {v[0]: code for code, v in ctx.schools.items()} | {pk: code for code, pk in outside.items()}
        qs = ctx.jurisdiction.filter(HelpRelation.objects.all(), "township").values_list("helper_id", "helped_id", "kind", "period")
        for helper_id, helped_id, kind, period in qs:
            existing[(id_to_code.get(helper_id), id_to_code.get(helped_id), kind, period)] = {}
    _diff_rows(sheet, outcome, valid, existing, {}, lambda r: f"{r['helper_code']}→{r['helped_code']}", lambda r: r["_township"], lambda r: r["period"])
    return outcome


DIFFERS = {
    c.SCHOOLS.kind: _diff_schools,
    c.SCHOOL_YEARS.kind: _diff_school_years,
    c.TOWNSHIP_YEARS.kind: _diff_township_years,
    c.HELP_RELATIONS.kind: _diff_help,
}


def _record_outcome(run: ImportRun, outcome: Outcome) -> None:
    run.summary = {"sheets": [s.counts() for s in outcome.sheets]}
    run.errors = [e.as_dict() for e in outcome.errors]
    run.flags = [f.as_dict() for f in outcome.flags]
    if run.status != ImportStatus.COMMITTED:
        # The preview shows the first changed cells; the commit records all of them.
        run.changes = {"changed": [cell for s in outcome.sheets for cell in s.cell_changes][:MAX_SHOWN_CHANGES]}


# ---------------------------------------------------------------------------------------------
# Writes (inside commit_import's transaction)


def _queue_downstream(outcome: Outcome) -> None:
    """Once the transaction commits, recompute the results of the 乡镇 the upload touched."""
    periods, towns = set(), set()
    for sheet in outcome.sheets:
        for record in sheet.new + sheet.changed:
            if record.get("period"):
                periods.add(record["period"])
            town = record.get("_township") or record.get("township_code")
            if town:
                towns.add(town)
    if periods and towns:
        from evaluation.tasks import queue_rollup

        transaction.on_commit(lambda: queue_rollup(periods=periods, township_codes=towns))


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


def _write(outcome: Outcome, run: ImportRun) -> dict:
    from .writing import WRITERS

    changes = {"new": [], "changed": []}
    for sheet in outcome.sheets:  # in SHEET_ORDER: schools exist before their yearly rows
        if sheet.new or sheet.changed:
            WRITERS[sheet.parsed.spec.kind](new=sheet.new, changed=sheet.changed, present=sheet.parsed.present, run=run)
        key = sheet.parsed.spec.key
        changes["new"].extend([sheet.parsed.spec.kind, *[r.get(k) for k in key]] for r in sheet.new)
        changes["changed"].extend(sheet.cell_changes)
    return changes
