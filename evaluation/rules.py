"""The rules of the observation points, applied to one township in Python: each point's value,
reference and verdict, the seven targets and "all seven".

The inspector's form shows these values beside each judgment; the province-wide roll-up
(`evaluation.rollup`) computes the same in SQL and is tested against this reading of the rules.
Both read their words — verdicts, stages, the grade scale — from `evaluation.vocabulary`.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from evaluation.models import Aggregation, HelpRelation, ObservationPoint, RuleKind, SchoolYear, SourceKind, TownshipYear, TrendReading
from evaluation.vocabulary import GRADE_SCORE, SCHOOL_STAGES, VERDICT_CREDIT, EvaluationStage, JudgmentLevel, Verdict, stage_label
from townships.models import Phase, PilotTownship

# Short names for the verdicts the rules below hand out.
ATTAINED, BASIC, NOT_ATTAINED, INSUFFICIENT = Verdict.ATTAINED, Verdict.BASIC, Verdict.NOT_ATTAINED, Verdict.INSUFFICIENT


@dataclass
class PointOutcome:
    """A point's outcome for one township at one stage (the model `PointResult` stores the SQL
    roll-up's)."""

    point: ObservationPoint
    stage: str
    value: Decimal | None
    reference: Decimal | None
    verdict: str
    note: str = ""

    @property
    def stage_label(self) -> str:
        return stage_label(self.stage)


def _num(v):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return Decimal(int(v))
    if isinstance(v, str):
        return Decimal(GRADE_SCORE[v]) if v in GRADE_SCORE else None
    return Decimal(v)


def aggregate(point: ObservationPoint, rows: list[dict]) -> Decimal | None:
    """Township value of a school column over `rows` (dicts of SchoolYear values)."""
    col, den = point.column, point.denominator
    usable = [r for r in rows if _num(r.get(col)) is not None and (not den or _num(r.get(den)) is not None)]
    if not usable:
        return None
    if point.aggregation == Aggregation.RATIO_OF_SUMS:
        total = sum(_num(r[den]) for r in usable)
        return None if total == 0 else sum(_num(r[col]) for r in usable) / total
    if point.aggregation == Aggregation.WEIGHTED_MEAN:
        weight = sum(r["students"] for r in usable)
        return None if weight == 0 else sum(_num(r[col]) * r["students"] for r in usable) / weight
    return sum(_num(r[col]) for r in usable) / len(usable)


def _passes(point: ObservationPoint, value: Decimal) -> bool:
    if point.rule == RuleKind.YES_NO:
        return value >= 1
    if point.rule == RuleKind.AT_MOST:
        return value <= point.threshold
    return value >= point.threshold


def counted_schools(township_code: str, period: int) -> list[dict]:
    """SchoolYear rows of the schools that count: the seat schools in phase 重点突破 (and for
    non-pilots), all schools in phase 全域提升 — the phase of the township's latest batch that
    counts in that year (a withdrawn pilot's phase no longer does)."""
    phase = (
        PilotTownship.objects.in_year(period).filter(township_id=township_code).order_by("-batch__year").values_list("phase", flat=True).first()
        or Phase.FOCUS
    )
    qs = SchoolYear.objects.filter(township_id=township_code, period=period)
    if phase == Phase.FOCUS:
        qs = qs.filter(school__is_seat=True)
    return list(qs.values(*_fields(), "school__stage", "school_id"))


def _fields():
    return [f.attname for f in SchoolYear._meta.concrete_fields if f.attname not in ("id",)]


def _by_stage(rows: list[dict], stage: str) -> list[dict]:
    return [r for r in rows if stage in SCHOOL_STAGES.get(r["school__stage"], ())]


def evaluate_township(*, points, township_code: str, period: int, overrides: dict | None = None) -> list[PointOutcome]:
    """`overrides` ({school id: {column: value}}) replaces reported figures, e.g. by the values
    inspectors verified on site, to see which verdicts they change."""
    rows = counted_schools(township_code, period)
    county = township_code[:6]
    urban = list(
        SchoolYear.objects.filter(township__code__startswith=county, period=period, school__is_urban=True).values(
            *_fields(), "school__stage", "school__is_urban_quality", "school_id"
        )
    )
    for row in (*rows, *urban) if overrides else ():
        row.update(overrides.get(row["school_id"], {}))
    town = {ty.period: ty for ty in TownshipYear.objects.filter(township_id=township_code, period__in=[period, period - 1])}
    helped = set(HelpRelation.objects.filter(township_id=township_code, period=period).values_list("helped_id", flat=True))
    results = []
    for point in points:
        if point.source_kind == SourceKind.JUDGMENT:
            continue
        if point.source_kind == SourceKind.TOWNSHIP_COLUMN:
            results.append(_township_point(point, town, period))
            continue
        for stage in point.stage_list:
            stage_rows = _by_stage(rows, stage)
            if point.source_kind == SourceKind.HELP:
                if not stage_rows:
                    results.append(PointOutcome(point, stage, None, None, INSUFFICIENT, "no school"))
                    continue
                ok = all(r["school_id"] in helped for r in stage_rows)
                results.append(PointOutcome(point, stage, Decimal(int(ok)), None, ATTAINED if ok else NOT_ATTAINED))
                continue
            results.append(_school_point(point, stage, stage_rows, _by_stage(urban, stage)))
    return results


def _school_point(point, stage, rows, urban_rows) -> PointOutcome:
    if not rows:
        return PointOutcome(point, stage, None, None, INSUFFICIENT, "no school data")
    if point.aggregation == Aggregation.ALL_PASS:
        values = [_num(r.get(point.column)) for r in rows]
        if any(v is None for v in values):
            return PointOutcome(point, stage, None, None, INSUFFICIENT, "missing values")
        passed = [_passes(point, v) for v in values]
        share = Decimal(sum(passed)) / len(passed)
        return PointOutcome(point, stage, share, None, ATTAINED if all(passed) else NOT_ATTAINED)
    value = aggregate(point, rows)
    if value is None:
        return PointOutcome(point, stage, None, None, INSUFFICIENT, "missing values")
    if point.rule in (RuleKind.URBAN_GAP, RuleKind.QUALITY_GAP):
        ref_rows = urban_rows if point.rule == RuleKind.URBAN_GAP else [r for r in urban_rows if r["school__is_urban_quality"]]
        reference = aggregate(point, ref_rows)
        if reference is None:
            return PointOutcome(point, stage, value, None, INSUFFICIENT, "no urban reference")
        if point.rule == RuleKind.URBAN_GAP:
            return PointOutcome(point, stage, value, reference, ATTAINED if value >= reference else NOT_ATTAINED)
        if reference == 0:
            return PointOutcome(point, stage, value, reference, INSUFFICIENT, "urban reference is zero")
        gap = (reference - value) / reference
        return PointOutcome(point, stage, value, reference, ATTAINED if gap < point.threshold else NOT_ATTAINED)
    return PointOutcome(point, stage, value, point.threshold, ATTAINED if _passes(point, value) else NOT_ATTAINED)


def _township_point(point, town: dict, period: int) -> PointOutcome:
    def rate(ty):
        if ty is None:
            return None
        num = getattr(ty, point.column)
        if not point.denominator:
            return _num(num)
        den = getattr(ty, point.denominator)
        if num is None or not den:
            return None
        return Decimal(num) / Decimal(den)

    stage = point.stages or EvaluationStage.ALL
    now = rate(town.get(period))
    if now is None:
        return PointOutcome(point, stage, None, None, INSUFFICIENT, "missing values")
    if point.rule == RuleKind.TREND:
        before = rate(town.get(period - 1))
        if point.threshold is not None and now >= point.threshold:
            # At the ceiling a share cannot rise further: attained whatever last year was.
            return PointOutcome(point, stage, now, before, ATTAINED, "at the ceiling")
        if before is None:
            return PointOutcome(point, stage, now, None, INSUFFICIENT, "no previous year")
        risen = now >= before if point.trend_reading == TrendReading.NOT_FALLEN else now > before
        return PointOutcome(point, stage, now, before, ATTAINED if risen else NOT_ATTAINED)
    if point.rule == RuleKind.THRESHOLD and point.denominator and point.min_valid is not None:
        # A survey rate from too few valid answers says nothing either way.
        valid = getattr(town.get(period), point.denominator)
        if valid < point.min_valid:
            return PointOutcome(point, stage, now, point.threshold, INSUFFICIENT, "too few valid surveys")
    return PointOutcome(point, stage, now, point.threshold, ATTAINED if _passes(point, now) else NOT_ATTAINED)


@dataclass
class TargetOutcome:
    """A target's outcome for one township (the model `TargetResult` stores the SQL roll-up's)."""

    target_number: int
    verdict: str  # a Verdict
    score: Decimal | None  # 0–100, for ranking and progress only
    vetoed: bool = False


def judge_targets(*, targets, results: list[PointOutcome], judgments: dict[str, str] | None) -> list[TargetOutcome]:
    """Targets from point verdicts and inspectors' levels (point code → level of the submitted form).

    judgments=None is the data-only view outside any evaluation round: judgment points do not
    apply (a round's view counts them, and a missing level is insufficient data).

    A target is attained when every applicable point is attained. 基本达成 (basic) is shown but does
    not count as attained. A failed veto point fails its target (and bars "all seven"). Weights
    give a 0–100 score once every applicable point has data; a target with a point lacking data
    has no score (None), so a missing figure never counts as attained. The score never decides
    the verdict.
    """
    by_target: dict[int, list[tuple]] = {}
    for r in results:
        by_target.setdefault(r.point.target.number, []).append((r.point, r.verdict))
    for target in targets:
        for point in target.points.all():
            if point.source_kind == SourceKind.JUDGMENT and judgments is not None:
                level = judgments.get(point.code) or ""
                verdict = Verdict(level) if level in JudgmentLevel.values else INSUFFICIENT
                by_target.setdefault(target.number, []).append((point, verdict))
    out = []
    for target in targets:
        entries = by_target.get(target.number, [])
        verdicts = [v for _p, v in entries]
        vetoed = any(p.veto and v == NOT_ATTAINED for p, v in entries)
        if vetoed or NOT_ATTAINED in verdicts:
            verdict = NOT_ATTAINED
        elif not entries or INSUFFICIENT in verdicts:
            verdict = INSUFFICIENT
        elif BASIC in verdicts:
            verdict = BASIC
        else:
            verdict = ATTAINED
        score = None
        if entries and INSUFFICIENT not in verdicts:
            weighed = [(p.weight, VERDICT_CREDIT[v]) for p, v in entries if p.weight]
            total = sum(w for w, _c in weighed)
            score = (sum(w * c for w, c in weighed) / total * 100).quantize(Decimal("0.1")) if total else None
        out.append(TargetOutcome(target.number, verdict, score, vetoed))
    return out


def township_score(scores: list) -> Decimal | None:
    """A township's 0–100 score: the mean of its targets' scores when every target has one; a
    township with a target lacking data has none (the roll-up's TOWNSHIPS_SQL, the same rule)."""
    if not scores or any(s is None for s in scores):
        return None
    return (sum(Decimal(s) for s in scores) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def all_seven(targets: list[TargetOutcome]) -> bool:
    return len(targets) == 7 and all(t.verdict == ATTAINED for t in targets) and not any(t.vetoed for t in targets)
