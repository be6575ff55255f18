"""Is the programme working? The pilots against comparable 乡镇 (a difference-in-differences table)
and the path to the goal — read off the roll-up's township and area results, inside the filters'
area, in a fixed number of queries.

Pilots against comparable 乡镇, for each batch, year by year from the batch's year:
- pilots: the 乡镇 the batch listed (all of them, withdrawn ones included: a group fixed at the
  start, so a withdrawal cannot flatter the pilots' figures);
- same counties: the programme 乡镇 (镇, 乡) of the pilots' counties never listed in any batch;
- matched: for each pilot, the nearest such non-pilot of the area by the batch year's figures —
  fewest difference in targets attained, then in score, then the lower code (with replacement:
  one non-pilot may match two pilots; counted once per pilot);
each group's share attaining each target and all seven, with the number of 乡镇 judged that year.
The difference-in-differences of a year is (pilots' share − their batch-year share) − (the
comparison group's share − its batch-year share), in percentage points.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import BooleanField, DecimalField, IntegerField, Q, Value

from evaluation.models import AreaResult, TargetResult, TownshipResult
from evaluation.rollup.scope import prefix_range
from evaluation.vocabulary import EvaluationStage, Verdict
from townships.models import Division, Level, PilotBatch, PilotTownship

from .filters import TARGET_NUMBERS, Filters

GROUPS = ("pilots", "same_counties", "matched")


def _round_by_period(f: Filters) -> dict[int, int]:
    """Each year's latest round when the page shows a round, else school data alone (as the trend)."""
    latest = {}
    for r in f.rounds:
        latest[r.period] = r.pk
    return {p: (latest.get(p, 0) if f.round_key else 0) for p in f.periods}


def _results(f: Filters, periods: dict[int, int]):
    """Per (乡镇, year): its targets attained (set), all seven, targets count and score — one
    statement: the township results and their attained targets' rows, as a union (a township
    row has target 0, a target row empty township figures)."""
    if not periods:
        return {}
    q = Q()
    for p, k in periods.items():
        q |= Q(period=p, round_key=k)
    rng = prefix_range(f.area.code)
    inside = Q(division_code__gte=rng["lo"], division_code__lt=rng["hi"])
    towns = TownshipResult.objects.filter(q, inside).values_list(
        "division_code", "period", "targets_attained", "all_seven", "score", Value(0, output_field=IntegerField()))
    targets = TargetResult.objects.filter(q, inside, verdict=Verdict.ATTAINED).values_list(
        "division_code", "period", Value(None, output_field=IntegerField()), Value(None, output_field=BooleanField()),
        Value(None, output_field=DecimalField(max_digits=6, decimal_places=2)), "target_number")
    out: dict[tuple[str, int], dict] = {}
    attained = []
    for code, period, n, seven, score, target in towns.union(targets, all=True):
        if target:
            attained.append((code, period, target))
        else:
            out[(code, period)] = {"count": n, "seven": seven, "score": float(score) if score is not None else None, "targets": set()}
    for code, period, target in attained:
        if (code, period) in out:
            out[(code, period)]["targets"].add(target)
    return out


@dataclass
class GroupYear:
    townships: int
    shares: list  # per target 1..7, then all seven (0..1, None with no 乡镇)


@dataclass
class BatchComparison:
    batch: PilotBatch
    years: list[int]
    groups: dict = field(default_factory=dict)  # group → {year: GroupYear}
    did: dict = field(default_factory=dict)  # comparison group → {year: [per target…, all seven] in points}
    sizes: dict = field(default_factory=dict)  # group → 乡镇 in it


def _shares(codes: list[str], period: int, results: dict) -> GroupYear:
    rows = [results[(c, period)] for c in codes if (c, period) in results]
    if not rows:
        return GroupYear(0, [None] * 8)
    n = len(rows)
    return GroupYear(n, [sum(1 for r in rows if t in r["targets"]) / n for t in TARGET_NUMBERS] + [sum(1 for r in rows if r["seven"]) / n])


def _match(pilots: list[str], pool: list[str], start: int, results: dict) -> list[str]:
    """Each pilot's nearest non-pilot (module docstring): the minimum over the pool of (targets
    apart, score apart, code), found in the pool grouped by targets attained, each group's
    distinct scores sorted (the lowest code kept per score), rather than by comparing every pilot
    with every 乡镇 — a province's hundreds of pilots by thousands of 乡镇 took most of its
    dashboard's time, recomputed whenever a county's results change."""
    lowest: dict[tuple[int, float], str] = {}
    for c in pool:
        r = results.get((c, start))
        if r is not None:
            k = (r["count"], r["score"] or 0)
            if k not in lowest or c < lowest[k]:
                lowest[k] = c
    if not lowest:
        return []
    by_count: dict[int, list[float]] = {}
    for n, score in lowest:
        by_count.setdefault(n, []).append(score)
    for scores in by_count.values():
        scores.sort()

    def nearest(n: int, x: float) -> tuple[float, str]:
        # The scores nearest x on either side, and any equally near beyond them.
        scores = by_count[n]
        i = bisect.bisect_left(scores, x)
        near = min(abs(x - scores[j]) for j in (i - 1, i) if 0 <= j < len(scores))
        codes = []
        for j, step in ((i - 1, -1), (i, 1)):
            while 0 <= j < len(scores) and abs(x - scores[j]) == near:
                codes.append(lowest[(n, scores[j])])
                j += step
        return near, min(codes)

    matched = []
    for p in pilots:
        a = results.get((p, start))
        if a is None:
            continue
        apart = min(abs(a["count"] - n) for n in by_count)
        x = a["score"] or 0
        matched.append(min(nearest(n, x) for n in by_count if abs(a["count"] - n) == apart)[1])
    return matched


def pilot_comparison(f: Filters) -> list[BatchComparison]:
    """Every batch with pilots in the area, against the same counties' non-pilots and a matched group."""
    periods = _round_by_period(f)
    if not periods:
        return []
    prefix = f.area.code
    listed = list(PilotTownship.objects.filter(township__code__startswith=prefix).select_related("batch").order_by("batch__year", "batch_id"))
    if not listed:
        return []
    entries = [(e.batch_id, e.township_id) for e in listed]
    batches = {e.batch_id: e.batch for e in listed}
    ever_pilot = {t for _b, t in entries}
    results = _results(f, periods)
    # The programme 乡镇 (镇, 乡: the only ones the roll-up judges) with results, never listed.
    non_pilots = sorted({code for code, _p in results} - ever_pilot)
    out = []
    for batch in batches.values():
        pilots = sorted(t for b, t in entries if b == batch.pk)
        years = [p for p in sorted(periods) if p >= batch.year]
        if not years:
            continue
        start = years[0]
        counties = {p[:6] for p in pilots}
        groups_codes = {
            "pilots": pilots,
            "same_counties": [t for t in non_pilots if t[:6] in counties],
            "matched": _match(pilots, non_pilots, start, results),
        }
        comparison = BatchComparison(batch=batch, years=years, sizes={g: len(c) for g, c in groups_codes.items()})
        for group, codes in groups_codes.items():
            comparison.groups[group] = {p: _shares(codes, p, results) for p in years}
        for group in ("same_counties", "matched"):
            comparison.did[group] = {p: _did(comparison.groups["pilots"], comparison.groups[group], start, p) for p in years}
        out.append(comparison)
    return out


def _did(pilots: dict, other: dict, start: int, year: int) -> list:
    def change(g, i):
        a, b = g[year].shares[i], g[start].shares[i]
        return None if a is None or b is None else a - b

    return [None if (cp := change(pilots, i)) is None or (co := change(other, i)) is None else round((cp - co) * 100, 1) for i in range(8)]


# --- The path to the goal ----------------------------------------------------------------------


def goal_for(period: int) -> dict:
    """The goal a school year is measured against: the first whose year is not past."""
    goals = sorted(settings.PROGRAMME_GOALS, key=lambda g: g["year"])
    return next((g for g in goals if g["year"] >= period), goals[-1])


def goal_path_part(f: Filters, children: list[str]) -> Q | None:
    """The area results the path reads: the area's all-seven counts (all, pilots) year by year and
    its children's in the year on screen (`area_dashboard` reads them with its own)."""
    periods = _round_by_period(f)
    if not periods or f.period is None:
        return None
    q = Q()
    for p, k in periods.items():
        q |= Q(period=p, round_key=k)
    return Q(
        (q & Q(division_code=f.area.code, population__in=["all", "pilots"]))
        | Q(division_code__in=children, period=f.period, round_key=periods[f.period], population="all"),
        stage=EvaluationStage.ALL, target_number=0,
    )


def goal_path(f: Filters, *, names: dict[str, str] | None = None, behind_limit: int = 5, rows: list | None = None) -> dict:
    """Year by year the 乡镇 attaining all seven (all, pilots) against the straight path from the
    goal's start year (its share then) to the goal's share in the goal's year; and the child areas
    furthest behind the path in the year on screen. Two queries, or none given the `rows` of
    `goal_path_part` (code, period, population, townships, attained) read with the dashboard's."""
    periods = _round_by_period(f)
    if not periods or f.period is None:
        return {"years": [], "behind": []}
    goal = goal_for(f.period)
    width = {2: 4, 4: 6}.get(len(f.area.code))
    if names is None and width:
        level = {4: Level.CITY, 6: Level.COUNTY}[width]
        names = dict(Division.objects.filter(code__startswith=f.area.code, level=level).values_list("code", "name"))
    children = [c for c in (names or {}) if width and len(c) == width]
    if rows is None:
        # The area's years and its children's year on screen, in one query.
        rows = AreaResult.objects.filter(goal_path_part(f, children)).values_list("division_code", "period", "population", "townships", "attained")
    counts, child_counts = {}, []
    for code, p, pop, n, a in rows:
        if code == f.area.code:
            counts[(p, pop)] = (n, a)
        elif code in children:
            child_counts.append((code, n, a))
    start_n, start_a = counts.get((goal["start"], "all"), (0, 0))
    start_share = start_a / start_n if start_n else 0.0

    def path(period: int) -> float:
        span = goal["year"] - goal["start"]
        step = min(max(period - goal["start"], 0), span) / span if span else 1
        return start_share + (goal["share"] - start_share) * step

    years = []
    for p in sorted(periods):
        n, a = counts.get((p, "all"), (0, 0))
        pn, pa = counts.get((p, "pilots"), (0, 0))
        target_share = path(p)
        # The 乡镇 the path asks for, rounded up (after the float noise of 0.1 + 0.2).
        on_path = math.ceil(round(n * target_share, 6))
        years.append({"period": p, "townships": n, "attained": a, "share": a / n if n else None, "path_share": target_share,
                      "path_count": on_path, "behind": max(on_path - a, 0), "pilots": pn, "pilots_attained": pa,
                      "pilots_share": pa / pn if pn else None})
    behind = []
    if children:
        for code, n, a in child_counts:
            if n:
                share = a / n
                behind.append({"code": code, "name": names[code], "townships": n, "attained": a, "share": share,
                               "gap": round((path(f.period) - share) * 100, 1)})
        behind.sort(key=lambda r: (-r["gap"], r["code"]))
        behind = [r for r in behind if r["gap"] > 0][:behind_limit]
    return {"goal": goal, "start_share": start_share, "years": years, "behind": behind}
