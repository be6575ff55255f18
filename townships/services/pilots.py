"""Load a pilot batch from a list written the way policy documents write it, and reconcile
every name with the official division codes.

A document names townships as "县名镇名"; the statistics bureau sometimes writes them otherwise
(a 新区 for the district that contains it, a variant character, a county prefix inside the
official name, an entry that omits its county). Each entry resolves exactly, through the alias
table (DivisionAlias) or a documented rule, or is reported unresolved, in which case nothing is
written: a batch is loaded whole or not at all.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from core import ports
from townships.models import Division, DivisionAlias, Level, Phase, PilotBatch, PilotTownship

LINE_RE = re.compile(r"^\s*(?P<city>[^:：]+?)\s*[:：]\s*(?P<items>.+?)\s*$")
GROUP_SPLIT_RE = re.compile(r"[;；]")
ITEM_SPLIT_RE = re.compile(r"[、,，]")

EXACT = "exact"
ALIAS = "alias"
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class PilotEntry:
    line_no: int
    city: str
    county: str
    township: str
    county_inherited: bool
    written: str


@dataclass
class Resolution:
    entry: PilotEntry
    status: str = UNRESOLVED
    township: Division | None = None
    county: Division | None = None
    city: Division | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class BatchReport:
    resolutions: list[Resolution]
    batch: PilotBatch | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.resolutions if r.status == status)

    @property
    def unresolved(self) -> list[Resolution]:
        return [r for r in self.resolutions if r.status == UNRESOLVED]

    def render(self) -> str:
        lines = [
            _("Reconciliation of the pilot list with the official division codes"),
            "-" * 72,
        ]
        for r in self.resolutions:
            official = f"{r.township.code} {r.city.name}{r.county.name}{r.township.name}" if r.township else "—"
            note = "；".join(r.notes)
            lines.append(f"{_status_label(r.status):<8} {r.entry.city}:{r.entry.written:<14} → {official}  {note}".rstrip())
        lines.append("-" * 72)
        lines.append(
            _("resolved: %(exact)d, resolved by alias: %(alias)d, unresolved: %(unresolved)d, total: %(total)d")
            % {
                "exact": self.count(EXACT),
                "alias": self.count(ALIAS),
                "unresolved": self.count(UNRESOLVED),
                "total": len(self.resolutions),
            }
        )
        return "\n".join(lines)


def _status_label(status: str) -> str:
    return {EXACT: _("resolved"), ALIAS: _("by alias"), UNRESOLVED: _("UNRESOLVED")}[status]


class PilotListError(ValueError):
    pass


def parse_pilot_list(text: str, *, county_names_by_city: dict[str, list[str]]) -> list[PilotEntry]:
    """Split "市:县镇、镇;县镇" lines into entries. County prefixes are recognised against the
    known county names (official and alias) of the line's city, longest first."""
    entries: list[PilotEntry] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        if not m:
            raise PilotListError(_("Line %(line)d: expected “city:townships”, got “%(text)s”") % {"line": line_no, "text": line})
        city = m["city"]
        counties = sorted(county_names_by_city.get(city, []), key=len, reverse=True)
        current_county = ""
        for group in GROUP_SPLIT_RE.split(m["items"]):
            for item in ITEM_SPLIT_RE.split(group):
                item = item.strip()
                if not item:
                    continue
                county = next((c for c in counties if item.startswith(c) and len(item) > len(c)), "")
                if county:
                    current_county = county
                    township = item[len(county):]
                else:
                    township = item
                entries.append(
                    PilotEntry(
                        line_no=line_no,
                        city=city,
                        county=current_county,
                        township=township,
                        county_inherited=not county,
                        written=item,
                    )
                )
    return entries


def county_names_by_city(province_code: str = "37") -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    cities = {c.code: c.name for c in Division.objects.filter(level=Level.CITY, code__startswith=province_code)}
    for county in Division.objects.filter(level=Level.COUNTY, code__startswith=province_code).only("code", "name", "parent_id"):
        names.setdefault(cities[county.parent_id], []).append(county.name)
    for alias in DivisionAlias.objects.filter(level=Level.COUNTY, scope__code__startswith=province_code).select_related("scope"):
        names.setdefault(alias.scope.name, []).append(alias.alias)
    return names


def resolve_entries(entries: list[PilotEntry], *, province_code: str = "37") -> list[Resolution]:
    divisions = list(
        Division.objects.filter(code__startswith=province_code, level__in=[Level.CITY, Level.COUNTY, Level.TOWNSHIP]).only(
            "code", "name", "level", "parent_id"
        )
    )
    by_parent_name: dict[tuple[str | None, str], Division] = {}
    cities_by_name: dict[str, Division] = {}
    for d in divisions:
        by_parent_name[(d.parent_id, d.name)] = d
        if d.level == Level.CITY:
            cities_by_name[d.name] = d
    aliases = {(a.scope_id, a.alias): a for a in DivisionAlias.objects.select_related("division")}

    results: list[Resolution] = []
    for entry in entries:
        res = Resolution(entry=entry)
        results.append(res)
        res.city = cities_by_name.get(entry.city)
        if res.city is None:
            res.notes.append(_("no city named “%(name)s”") % {"name": entry.city})
            continue
        used_alias = False
        res.county = by_parent_name.get((res.city.code, entry.county))
        if res.county is None and (alias := aliases.get((res.city.code, entry.county))):
            res.county = alias.division
            used_alias = True
            res.notes.append(_("county “%(alias)s” is %(official)s: %(reason)s") % {"alias": entry.county, "official": alias.division.name, "reason": alias.reason})
        if res.county is None:
            res.notes.append(_("no county “%(name)s” in %(city)s") % {"name": entry.county or "?", "city": entry.city})
            continue
        if entry.county_inherited:
            res.notes.append(_("county not written; taken from the entry before (%(county)s)") % {"county": res.county.name})
        township = by_parent_name.get((res.county.code, entry.township))
        if township is None and (prefixed := by_parent_name.get((res.county.code, res.county.name + entry.township))):
            township = prefixed
            used_alias = True
            res.notes.append(_("the bureau writes it with its county prefix: “%(name)s”") % {"name": prefixed.name})
        if township is None and (alias := aliases.get((res.county.code, entry.township))):
            township = alias.division
            used_alias = True
            res.notes.append(_("alias: %(reason)s") % {"reason": alias.reason})
        if township is None or township.level != Level.TOWNSHIP:
            res.notes.append(_("no township “%(name)s” in %(county)s") % {"name": entry.township, "county": res.county.name})
            continue
        res.township = township
        res.status = ALIAS if used_alias else EXACT
    return results


def reconcile_pilot_list(text: str, *, province_code: str = "37") -> BatchReport:
    entries = parse_pilot_list(text, county_names_by_city=county_names_by_city(province_code))
    return BatchReport(resolutions=resolve_entries(entries, province_code=province_code))


@transaction.atomic
def load_pilot_batch(
    *,
    text: str,
    year: int,
    name: str,
    source_document: str,
    phase: str = Phase.FOCUS,
    is_demo: bool = False,
    dry_run: bool = False,
    province_code: str = "37",
) -> BatchReport:
    """Reconcile the list and, when every entry resolves, create or update the batch.

    Nothing is written when any entry is unresolved or on a dry run. Reloading the same list is a
    no-op; townships dropped from the list are removed from the batch.
    """
    report = reconcile_pilot_list(text, province_code=province_code)
    if report.unresolved or dry_run:
        return report
    codes = [r.township.code for r in report.resolutions]
    if len(set(codes)) != len(codes):
        raise PilotListError(_("The list names the same township twice."))
    batch, _created = PilotBatch.objects.update_or_create(
        year=year, name=name, defaults={"source_document": source_document, "is_demo": is_demo}
    )
    add_batch_townships(batch=batch, listed={r.township.code: r.entry.written for r in report.resolutions}, phase=phase)
    report.batch = batch
    return report


def add_batch_townships(*, batch: PilotBatch, listed: dict[str, str], phase: str) -> None:
    """Make the batch's townships exactly `listed` (code → name as written), keeping existing phases."""
    dropped = list(batch.townships.exclude(township_id__in=listed).values_list("township_id", flat=True))
    batch.townships.exclude(township_id__in=listed).delete()
    existing = set(batch.townships.values_list("township_id", flat=True))
    added = [code for code in listed if code not in existing]
    PilotTownship.objects.bulk_create([PilotTownship(batch=batch, township_id=code, listed_as=listed[code], phase=phase) for code in added])
    # Who is a pilot (and in which phase) is read by the results of every year from the batch's.
    if dropped or added:
        ports.facts_changed(township_codes=[*dropped, *added], from_period=batch.year)


@transaction.atomic
def load_aliases(*, path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    objs = [
        DivisionAlias(
            level=r["level"], scope_id=r["scope_code"], alias=r["alias"], division_id=r["official_code"], reason=r["reason"]
        )
        for r in rows
    ]
    DivisionAlias.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["scope", "alias"], update_fields=["level", "division", "reason"]
    )
    return len(objs)
