"""增值性评价 (value-added): for every continuous data point read off school facts, per stage and
school year, what each seat school reached against what was expected from its own last year.

The model, per (point, stage, year), over every seat school of the province with a value in both
years: weighted least squares of this year's value on last year's (a straight line, intercept and
slope), each school weighted by its students, because a school's value is an average over its
pupils and a large school's is the steadier (its residual variance taken as σ²/students). The
expected value is the line at the school's own last year; the value-added is actual − expected,
and its 95 % interval is the line's prediction interval for one new school of that size
(statsmodels `get_prediction(...).summary_frame(alpha=0.05)`, the obs_ci columns): the spread of
schools around the line plus the uncertainty of the line itself. A school is 显著高于/低于预期 only
when that interval excludes 0.

A 乡镇's value-added is the student-weighted mean of its seat schools' (of the stage); its actual
and expected are the same weighted means, and its interval is the prediction interval of that
mean — the line at the weighted mean of the schools' last-year values, for a "school" of their
total students — which assumes the schools' deviations from the line are independent.

There is no pupil-level data: it is an estimate about schools, not pupils, and says nothing about
why a school is where it is. The fit is province-wide, so one county's change moves every school's
expected value of that year: the province's rows of a year are recomputed together (one read of
the pairs, the fits in memory, one write), when the province's area counts are, and so always
equal a recomputation from scratch.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import BooleanField, CharField

from evaluation.models import Aggregation, ObservationPoint, PointScale, SchoolYear, SourceKind, ValueAdded, ValueAddedVerdict

from . import words as w
from .scope import framework_for_period, prefix_range

MIN_SCHOOLS = 3  # a line through two schools leaves no spread to judge anyone by


def continuous_points_for_period(period: int) -> list[ObservationPoint]:
    """`continuous_points` of the version in force for a school year, in one query (the pages)."""
    from django.db.models import Subquery
    from django.db.models.functions import Coalesce

    from evaluation.models import Framework

    # framework_for_period as a subquery: the latest in force, else the first version.
    in_force = Framework.objects.filter(applies_from__lte=period).order_by("-applies_from", "-created_at", "-id").values("pk")[:1]
    first = Framework.objects.order_by("applies_from", "created_at", "id").values("pk")[:1]
    return continuous_points(Coalesce(Subquery(in_force), Subquery(first)))


def continuous_points(framework) -> list[ObservationPoint]:
    """The points value-added applies to: read off numeric school facts and averaged (a mean, a
    student-weighted mean or a ratio) — not yes/no facts, grades, every-school-passes points,
    township facts or judgments."""
    if framework is None:
        return []
    points = ObservationPoint.objects.filter(
        target__framework_id=framework if not hasattr(framework, "pk") else framework.pk, source_kind=SourceKind.SCHOOL_COLUMN,
        aggregation__in=[Aggregation.MEAN, Aggregation.WEIGHTED_MEAN, Aggregation.RATIO_OF_SUMS],
    ).exclude(scale=PointScale.YES_NO).select_related("target").order_by("target__number", "order", "code")
    out = []
    for p in points:
        fields = [SchoolYear._meta.get_field(c) for c in (p.column, p.denominator) if c]
        if not any(isinstance(f, (BooleanField, CharField)) for f in fields):
            out.append(p)
    return out


def _pairs_sql(columns: list[str]) -> str:
    cols = "".join(
        f", cur.{connection.ops.quote_name(SchoolYear._meta.get_field(c).column)} * 1.0 AS c_{c}"
        f", prev.{connection.ops.quote_name(SchoolYear._meta.get_field(c).column)} * 1.0 AS p_{c}"
        for c in columns
    )
    return f"""
WITH sm(school_stage, stage) AS (VALUES {w.STAGE_VALUES})
SELECT s.code, cur.township_id, sm.stage, cur.students{cols}
FROM evaluation_schoolyear cur
JOIN evaluation_schoolyear prev ON prev.school_id = cur.school_id AND prev.period = %(period)s - 1
JOIN townships_school s ON s.id = cur.school_id
JOIN sm ON sm.school_stage = s.stage
WHERE cur.period = %(period)s AND cur.township_id >= %(lo)s AND cur.township_id < %(hi)s AND s.is_seat AND cur.students > 0
ORDER BY sm.stage, s.code
"""


def _value(row: dict, prefix: str, point: ObservationPoint) -> float | None:
    x = row[f"{prefix}_{point.column}"]
    if x is None:
        return None
    if point.denominator:
        d = row[f"{prefix}_{point.denominator}"]
        return float(x) / float(d) if d else None
    return float(x)


def fit_line(previous, actual, students):
    """The WLS fit (statsmodels) of this year's values on last year's, weighted by students; None
    when the schools cannot carry a line (too few, or all starting from the same value)."""
    import numpy as np

    # The model alone: `statsmodels.api` imports every model and data set (seconds, once).
    from statsmodels.regression.linear_model import WLS

    x, y, wt = (np.asarray(v, dtype=float) for v in (previous, actual, students))
    if len(x) < MIN_SCHOOLS or np.ptp(x) == 0:
        return None
    return WLS(y, np.column_stack([np.ones(len(x)), x]), weights=wt).fit()


def predict(fit, previous, students) -> list[tuple[float, float, float]]:
    """(expected, lower, upper) of a new observation at each last-year value for a unit of that
    many students: statsmodels' obs interval at 95 %."""
    import numpy as np

    out = []
    exog = np.column_stack([np.ones(len(previous)), np.asarray(previous, dtype=float)])
    wt = np.asarray(students, dtype=float)
    # statsmodels mistakes a weights vector as long as the model has parameters (two) for a
    # misshapen one: two rows are predicted one at a time.
    chunks = [slice(i, i + 1) for i in range(len(wt))] if len(wt) == exog.shape[1] else [slice(None)]
    for part in chunks:
        frame = fit.get_prediction(exog[part], weights=wt[part]).summary_frame(alpha=0.05)
        out.extend(zip(frame["mean"].tolist(), frame["obs_ci_lower"].tolist(), frame["obs_ci_upper"].tolist(), strict=True))
    return out


def _verdict(lower: float, upper: float) -> str:
    if lower > 0:
        return ValueAddedVerdict.ABOVE
    if upper < 0:
        return ValueAddedVerdict.BELOW
    return ValueAddedVerdict.AS_EXPECTED


def _d(v: float) -> Decimal:
    text = f"{v:.6f}"
    return Decimal("0" if text == "-0.000000" else text)


def _row(*, code, school, point, period, stage, students, previous, actual, expected, lower, upper, n) -> dict:
    """A row as plain values (a model instance costs more than the fit): only the rows that
    changed become instances, to be written."""
    # The interval of the value-added is the prediction interval shifted: actual − [lower, upper].
    va_lower, va_upper = actual - upper, actual - lower
    return {
        "division_code": code, "school_code": school, "point_id": point.pk, "period": period, "stage": stage, "students": int(students),
        "previous": _d(previous), "actual": _d(actual), "expected": _d(expected), "value_added": _d(actual - expected),
        "lower": _d(va_lower), "upper": _d(va_upper), "verdict": _verdict(va_lower, va_upper), "schools_fitted": n,
    }


def compute_value_added(*, period: int, province: str = "37") -> list[dict]:
    """Every row of a province's school year, in memory: one read of the pairs, a fit per point and stage."""
    points = continuous_points(framework_for_period(period))
    if not points:
        return []
    columns = sorted({c for p in points for c in (p.column, p.denominator) if c})
    with connection.cursor() as cursor:
        cursor.execute(_pairs_sql(columns), {"period": period, **prefix_range(province)})
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    by_stage = defaultdict(list)
    for r in rows:
        by_stage[r["stage"]].append(r)
    out: list[dict] = []
    for point in points:
        for stage in point.stage_list:
            units = []
            for r in by_stage.get(stage, []):
                x, y = _value(r, "p", point), _value(r, "c", point)
                if x is not None and y is not None:
                    units.append((r["code"], r["township_id"], float(r["students"]), x, y))
            fit = fit_line([u[3] for u in units], [u[4] for u in units], [u[2] for u in units])
            if fit is None:
                continue
            n = len(units)
            for (school, town, students, x, y), (e, lo, hi) in zip(units, predict(fit, [u[3] for u in units], [u[2] for u in units]), strict=True):
                out.append(_row(code=town, school=school, point=point, period=period, stage=stage, students=students,
                                previous=x, actual=y, expected=e, lower=lo, upper=hi, n=n))
            towns = defaultdict(list)
            for u in units:
                towns[u[1]].append(u)
            codes = sorted(towns)
            totals = [sum(u[2] for u in towns[c]) for c in codes]
            mean_x = [sum(u[2] * u[3] for u in towns[c]) / t for c, t in zip(codes, totals, strict=True)]
            mean_y = [sum(u[2] * u[4] for u in towns[c]) / t for c, t in zip(codes, totals, strict=True)]
            for code, t, x, y, (e, lo, hi) in zip(codes, totals, mean_x, mean_y, predict(fit, mean_x, totals), strict=True):
                out.append(_row(code=code, school="", point=point, period=period, stage=stage, students=t,
                                previous=x, actual=y, expected=e, lower=lo, upper=hi, n=n))
    return out


UPDATED = ["students", "previous", "actual", "expected", "value_added", "lower", "upper", "verdict", "schools_fitted"]


KEY = ("division_code", "school_code", "point_id", "stage")


@transaction.atomic
def rollup_value_added(*, period: int, province: str = "37") -> set[str]:
    """Recompute a province's value-added of one school year and write what changed: the rows it
    no longer has go, changed and new ones are upserted. Idempotent. Returns the 乡镇 whose rows
    changed (their pages' tokens must be renewed: another county's data moves their fit)."""
    rows = compute_value_added(period=period, province=province)
    new = {tuple(r[k] for k in KEY): r for r in rows}
    rng = prefix_range(province)
    existing = ValueAdded.objects.filter(period=period, division_code__gte=rng["lo"], division_code__lt=rng["hi"])
    old = {tuple(v[1:5]): v for v in existing.values_list("pk", *KEY, *UPDATED)}
    stale = [v[0] for key, v in old.items() if key not in new]
    written = [ValueAdded(**r) for key, r in new.items() if key not in old or tuple(old[key][5:]) != tuple(r[f] for f in UPDATED)]
    if stale:
        ValueAdded.objects.filter(pk__in=stale).delete()
    if written:
        ValueAdded.objects.bulk_create(written, batch_size=2000, update_conflicts=True,
                                       unique_fields=["division_code", "school_code", "point", "period", "stage"], update_fields=UPDATED)
    return {r.division_code for r in written} | {v[1] for key, v in old.items() if key not in new}
