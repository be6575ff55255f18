"""What a dashboard or township page is asked for: the area (checked against the jurisdiction
once), school year, round, population and stage, and the labels the filters show."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db.models import Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from evaluation.models import (
    AreaResult,
    Round,
    Target,
)
from evaluation.vocabulary import EvaluationStage
from townships.jurisdiction import Jurisdiction
from townships.models import Division, PilotBatch

TARGET_NUMBERS = range(1, 8)
# The population of 乡镇 whose self-assessment the province approved in the round on screen.
APPROVED = "approved"
STAGES = tuple(s for s in EvaluationStage.values if s != EvaluationStage.ALL)
CHILD_WIDTH = {2: 4, 4: 6, 6: 9}


@dataclass
class Filters:
    """What a dashboard shows: one area, one school year, one round (0 = data only), one
    population of 乡镇 and one stage — parsed once, validated against the jurisdiction."""

    area: Division
    period: int | None
    round_key: int
    population: str
    stage: str
    periods: list[int] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    batches: list[PilotBatch] = field(default_factory=list)

    def as_query(self, **override) -> str:
        from urllib.parse import urlencode

        params = {"area": self.area.code, "period": self.period or "", "round": self.round_key, "population": self.population, "stage": self.stage}
        params.update(override)
        return urlencode(params)

    @property
    def round(self) -> Round | None:
        return next((r for r in self.rounds if r.pk == self.round_key), None)

    @cached_property
    def versions(self) -> dict:
        """Every framework version with its targets' names, in one query (a handful of versions
        of seven targets): what the figures are judged by, last year's version and the targets'
        names all come from it."""
        from evaluation.models import Framework

        fields = [f.attname for f in Framework._meta.concrete_fields]
        versions: dict = {}
        rows = Framework.objects.values(*fields, "targets__number", "targets__name").order_by("pk", "targets__number")
        for row in rows:
            version = versions.get(row["id"])
            if version is None:
                # As if read by the ORM (saved, from this database), for whoever uses it in a query.
                version = versions[row["id"]] = Framework.from_db(rows.db, fields, [row[k] for k in fields])
                version.target_names = []
            if row["targets__number"] is not None:
                version.target_names.append((row["targets__number"], row["targets__name"]))
        return versions

    def in_force(self, period: int):
        """The version in force for a school year, chosen as evaluation.rollup.framework_for_period
        chooses it: the latest to apply from it or earlier (of two from the same year, the newer);
        before the first version's year, the first version."""
        versions = list(self.versions.values())
        applying = [v for v in versions if v.applies_from <= period]
        if applying:
            return max(applying, key=lambda v: (v.applies_from, v.created_at, v.pk))
        return min(versions, key=lambda v: (v.applies_from, v.created_at, v.pk)) if versions else None

    @cached_property
    def framework(self):
        """The version the figures on screen are judged by: the round's own, or for school data
        alone the version in force for the year."""
        chosen = self.round
        if chosen is not None:
            return self.versions.get(chosen.framework_id, chosen.framework)
        return self.in_force(self.period) if self.period is not None else None

    @cached_property
    def previous_framework(self):
        """Last year's version, when it is another one: "last year" and "change" then compare
        figures judged by two versions, and the page says so."""
        if self.period is None or self.framework is None:
            return None
        before = self.in_force(self.period - 1)
        return before if before is not None and before.pk != self.framework.pk else None

    @property
    def target_names(self) -> list[tuple[int, str]]:
        """The seven targets of the version on screen (without one, of the newest version), as
        `target_names` reads them — from `versions`, no query of its own."""
        version = self.framework
        if version is None:
            newest = max(self.versions.values(), key=lambda v: (v.created_at, v.pk), default=None)
            return list(newest.target_names) if newest is not None else []
        known = self.versions.get(version.pk)
        return list(known.target_names) if known is not None else target_names(version)


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def root_area_code(jurisdiction: Jurisdiction) -> str | None:
    """The area a user's dashboard opens on: their unit (the province for operators)."""
    if jurisdiction.everything:
        return settings.PROVINCE_CODE
    staff = sorted((p for p in jurisdiction.prefixes if len(p) in CHILD_WIDTH), key=len)
    return staff[0] if staff else None


def parse_filters(params, jurisdiction: Jurisdiction, *, area_code: str | None = None, area: Division | None = None, populations: bool = True) -> Filters:
    """The dashboard's filters from a query string. An area outside the jurisdiction, or not a
    province, city or county, is "not found" — the same answer as a code that does not exist."""
    code = area.code if area is not None else area_code or params.get("area") or root_area_code(jurisdiction)
    if not code or len(code) not in CHILD_WIDTH or not jurisdiction.covers(code):
        raise Http404
    if area is None:
        area = Division.objects.select_related("parent__parent").filter(code=code).first()
    if area is None:
        raise Http404
    periods = sorted(set(AreaResult.objects.filter(division_code=code, stage="all", population="all").values_list("period", flat=True).distinct()))
    period = _int(params.get("period"))
    if period not in periods:
        period = periods[-1] if periods else None
    rounds = list(Round.objects.filter(period__in=periods).select_related("framework").order_by("period", "id")) if periods else []
    in_period = [r for r in rounds if r.period == period]
    round_key = _int(params.get("round"))
    if round_key != 0 and round_key not in {r.pk for r in in_period}:
        # By default the latest round of the year: the judgment of record; 0 = data only.
        round_key = in_period[-1].pk if in_period else 0
    batches = list(PilotBatch.objects.order_by("year", "id")) if populations else []
    population = params.get("population") or "all"
    if population not in {"all", "pilots", *(f"batch:{b.pk}" for b in batches)} and not (population == APPROVED and round_key):
        population = "all"
    stage = params.get("stage") or "all"
    if stage not in ("all", *STAGES):
        stage = "all"
    return Filters(area=area, period=period, round_key=round_key, population=population, stage=stage, periods=periods, rounds=rounds, batches=batches)




def target_names(framework=None) -> list[tuple[int, str]]:
    """The seven targets of a framework version (by default the newest), in one query."""
    from evaluation.models import Framework

    if framework is not None:
        return list(Target.objects.filter(framework=framework).order_by("number").values_list("number", "name"))
    latest = Framework.objects.order_by("-created_at", "-id").values("pk")[:1]
    return list(Target.objects.filter(framework_id__in=Subquery(latest)).order_by("number").values_list("number", "name"))


def stage_labels() -> dict[str, str]:
    return {"all": _("whole township"), "kindergarten": _("kindergarten"), "primary": _("primary school"), "junior": _("junior middle school")}


def population_labels(f: Filters) -> list[tuple[str, str]]:
    labels = [("all", _("all townships")), ("pilots", _("pilot townships")), *((f"batch:{b.pk}", f"{b.year} {b.name}") for b in f.batches)]
    if f.round_key:
        labels.append((APPROVED, _("approved by the province only")))
    return labels
