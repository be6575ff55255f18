"""Validate scope and references: which parsed rows the uploader may write, and what they refer to.

Owns the per-sheet reference checks (a school or 乡镇 must exist inside the uploader's
jurisdiction, a helper included), duplicate rows within the file, and — once the diff
knows which rows would change — the refusal of rows whose data an approval has locked. Each check
turns the valid rows of a ParsedSheet into RowChange records that carry the resolved ids and the
乡镇; every error goes on the sheet, so the user sees all of them at once. Reads, never writes.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from core.ports import locked
from townships.jurisdiction import Jurisdiction
from townships.models import Division, Level, School

from . import columns as c
from .records import RowChange, SheetOutcome
from .validation import ParsedSheet

# Codes per query: below SQLite's limit of host parameters.
CHUNK = 900


class Context:
    """What the checks need from the database, each fetched once, scoped to the jurisdiction."""

    def __init__(self, jurisdiction: Jurisdiction):
        self.jurisdiction = jurisdiction
        self._schools = None
        self._townships = None
        # The valid rows of the file's own schools sheet (checked first): yearly rows and help
        # relations may name a school this upload creates or moves.
        self.pending_schools: dict[str, RowChange] = {}

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

    def school(self, code: str) -> tuple[int | None, str, str] | None:
        """(id or None, township code, name) for a school of the area or of the file's own schools
        sheet; the file's row wins, as it is what will be stored."""
        pending = self.pending_schools.get(code)
        if pending is not None:
            known = self.schools.get(code)
            return (known[0] if known else None, pending.township_code, pending.values["name"])
        return self.schools.get(code)


def duplicates(sheet: ParsedSheet) -> None:
    """A key that appears twice is an error on its second row (which of the two is meant is not ours to guess)."""
    first_row: dict[tuple, int] = {}
    keys = sheet.spec.key
    for record in sheet.records:
        key = tuple(map(record.get, keys))
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


def check_schools(sheet: ParsedSheet, ctx: Context) -> list[RowChange]:
    code_col, town_col = sheet.spec.column("school_code"), sheet.spec.column("township_code")
    records = [r for r in sheet.records if r["school_code"] is not None and r["township_code"] is not None]
    # A code unknown in the area may belong to a school elsewhere (not the uploader's to move),
    # or to none. Both are answered alike, so an upload cannot tell which codes exist outside:
    # a new school's 学校标识码 carries its county's code in digits 2–7, which must be the
    # uploader's; any other unknown code is "no such school in your area".
    unknown = [r["school_code"] for r in records if r["school_code"] not in ctx.schools]
    taken = set()
    for i in range(0, len(unknown), CHUNK):
        taken.update(School.objects.filter(code__in=unknown[i : i + CHUNK]).values_list("code", flat=True))
    rows = []
    for r in records:
        code = r["school_code"]
        if code not in ctx.schools and (code in taken or not ctx.jurisdiction.covers(code[1:7])):
            sheet.error(r["_row"], code_col, code, _("no such school in your area"))
        elif r["township_code"] not in ctx.townships:
            sheet.error(r["_row"], town_col, r["township_code"], _("no such township-level unit in your area"))
        elif r["_row"] not in sheet.invalid_rows:
            rows.append(
                RowChange(
                    row=r["_row"],
                    key=(r["school_code"],),
                    values=r,
                    township_code=r["township_code"],
                    period=None,
                    subject=f"{r['school_code']} {r['name']}",
                )
            )
    ctx.pending_schools = {ch.values["school_code"]: ch for ch in rows}
    return rows


def check_school_years(sheet: ParsedSheet, ctx: Context) -> list[RowChange]:
    code_col = sheet.spec.column("school_code")
    rows = []
    # Bound once: the loop runs for each of up to 30,000 rows. The file's own schools sheet, when
    # it has one, may place a school elsewhere: then every code goes through ctx.school.
    school = ctx.schools.get if not ctx.pending_schools else ctx.school
    invalid, append = sheet.invalid_rows, rows.append
    # References are checked on every row whose code could be read, so all errors come at once.
    for r in sheet.records:
        code = r["school_code"]
        if code is None:
            continue
        ref = school(code)
        if ref is None:
            sheet.error(r["_row"], code_col, code, _("no such school in your area"))
        elif r["_row"] not in invalid:
            school_id, township, name = ref
            period = r["period"]
            append(RowChange(r["_row"], (code, period), r, township, period, f"{code} {name} {period}", school_id))
    return rows


def check_township_years(sheet: ParsedSheet, ctx: Context) -> list[RowChange]:
    code_col = sheet.spec.column("township_code")
    townships = ctx.townships
    rows = []
    for r in sheet.records:
        code = r["township_code"]
        if code is None:
            continue
        if code not in townships:
            sheet.error(r["_row"], code_col, code, _("no such township-level unit in your area"))
        elif r["_row"] not in sheet.invalid_rows:
            period = r["period"]
            rows.append(
                RowChange(
                    row=r["_row"],
                    key=(code, period),
                    values=r,
                    township_code=code,
                    period=period,
                    subject=f"{code} {townships[code]} {period}",
                )
            )
    return rows


def check_help(sheet: ParsedSheet, ctx: Context) -> list[RowChange]:
    helper_col, helped_col = sheet.spec.column("helper_code"), sheet.spec.column("helped_code")
    records = [r for r in sheet.records if r["helper_code"] is not None and r["helped_code"] is not None]
    # Both schools must be in the uploader's area: a helper elsewhere would be answered unlike a
    # code no school has, telling which codes exist outside. Help across a county (or city) line
    # is entered by the level whose area holds both schools.
    rows = []
    for r in records:
        helped = ctx.school(r["helped_code"])
        helper = ctx.school(r["helper_code"])
        if helped is None:
            sheet.error(r["_row"], helped_col, r["helped_code"], _("no such school in your area"))
        elif helper is None:
            sheet.error(r["_row"], helper_col, r["helper_code"], _("no such school in your area"))
        elif r["helper_code"] == r["helped_code"]:
            sheet.error(r["_row"], helped_col, r["helped_code"], _("a school cannot help itself"))
        elif r["_row"] not in sheet.invalid_rows:
            rows.append(
                RowChange(
                    row=r["_row"],
                    key=(r["helper_code"], r["helped_code"], r["kind"], r["period"]),
                    values=r,
                    township_code=helped[1],
                    period=r["period"],
                    subject=f"{r['helper_code']}→{r['helped_code']}",
                    helper_id=helper[0],
                    helped_id=helped[0],
                )
            )
    return rows


# The sheets whose rows belong to a (乡镇, school year) that an approval can lock.
LOCKABLE = frozenset({c.SCHOOL_YEARS.kind, c.TOWNSHIP_YEARS.kind, c.HELP_RELATIONS.kind})


def refuse_locked(outcome: SheetOutcome) -> None:
    """A row that would change data locked by an approval is an error naming the lock; rows whose
    locked values are unchanged are not (they are neither new nor changed). Runs after the diff
    for that reason, in preview and commit alike."""
    if outcome.parsed.spec.kind == c.SCHOOLS.kind:
        refuse_locked_schools(outcome)
        return
    if outcome.parsed.spec.kind not in LOCKABLE:
        return
    rows = outcome.new + outcome.changed
    locks = locked((ch.township_code, ch.period) for ch in rows)
    if not locks:
        return
    code_col = outcome.parsed.spec.columns[0]
    for ch in rows:
        message = locks.get((ch.township_code, ch.period))
        if message:
            outcome.parsed.error(ch.row, code_col, ch.values.get(code_col.key), message)


# What of a school the results read: its own 乡镇's figures (seat, stage, where it is) and the
# county's urban references (urban, urban-quality) — of every year the school has facts for.
TOWNSHIP_FIELDS = ("stage", "township_code", "is_seat")
COUNTY_FIELDS = ("is_urban", "is_urban_quality")


def refuse_locked_schools(outcome: SheetOutcome) -> None:
    """A change to the school list that an approved, locked year's results read is refused naming
    the lock: a locked 乡镇's year reads its schools' seat flags and stages, and its county's urban
    references read every urban school of the county. A name alone changes no figure."""
    from evaluation.models import SchoolYear

    if not outcome.changed:
        return
    codes = [ch.values["school_code"] for ch in outcome.changed]
    stored = {}
    for i in range(0, len(codes), CHUNK):
        for row in School.objects.filter(code__in=codes[i : i + CHUNK]).values("id", "code", "stage", "township_id", "is_seat", "is_urban", "is_urban_quality"):
            stored[row["code"]] = {**row, "township_code": row["township_id"]}
    years: dict[int, set[int]] = {}
    ids = [row["id"] for row in stored.values()]
    for i in range(0, len(ids), CHUNK):
        for school_id, period in SchoolYear.objects.filter(school_id__in=ids[i : i + CHUNK]).values_list("school_id", "period").distinct():
            years.setdefault(school_id, set()).add(period)
    # Which fields each row changes, and so which 乡镇 read it: its own (old and new) or its county's.
    reach: dict[RowChange, tuple[set[str], set[str], set[int]]] = {}
    for ch in outcome.changed:
        old = stored.get(ch.values["school_code"])
        periods = years.get(old["id"], set()) if old else set()
        changed = {f for f in TOWNSHIP_FIELDS + COUNTY_FIELDS if old and ch.values.get(f) != old[f]}
        if periods and changed:
            towns = {old["township_id"], ch.township_code}
            counties = {t[:6] for t in towns} if changed & set(COUNTY_FIELDS) else set()
            reach[ch] = (towns, counties, periods)
    if not reach:
        return
    in_county: dict[str, list[str]] = {}
    wanted = set().union(*(counties for _towns, counties, _periods in reach.values()))
    for code in Division.objects.filter(parent_id__in=wanted, level=Level.TOWNSHIP).values_list("code", flat=True):
        in_county.setdefault(code[:6], []).append(code)
    keys = {
        ch: {(t, p) for t in towns.union(*(in_county.get(c, []) for c in counties)) for p in periods}
        for ch, (towns, counties, periods) in reach.items()
    }
    locks = locked(set().union(*keys.values()))
    if not locks:
        return
    code_col = outcome.parsed.spec.column("school_code")
    for ch, pairs in keys.items():
        message = next((locks[k] for k in sorted(pairs) if k in locks), None)
        if message:
            outcome.parsed.error(ch.row, code_col, ch.values["school_code"], message)
