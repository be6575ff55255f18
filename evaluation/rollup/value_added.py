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

from django.db import connection, transaction
from django.db.models import BooleanField, CharField

from evaluation.models import Aggregation, ObservationPoint, PointScale, SchoolYear, SourceKind, ValueAddedVerdict

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


def _d(v: float) -> str:
    # Six decimals as text, as the column keeps them (a Decimal per figure cost more than the fits).
    text = f"{v:.6f}"
    return "0.000000" if text == "-0.000000" else text


def _row(*, code, school, point, period, stage, students, previous, actual, expected, lower, upper, n) -> tuple:
    """A row as the temporary table takes it (KEY, then UPDATED)."""
    # The interval of the value-added is the prediction interval shifted: actual − [lower, upper].
    va_lower, va_upper = actual - upper, actual - lower
    return (code, school, point.pk, stage, int(students), _d(previous), _d(actual), _d(expected), _d(actual - expected),
            _d(va_lower), _d(va_upper), _verdict(va_lower, va_upper), n)


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
NUMERIC = {"previous", "actual", "expected", "value_added", "lower", "upper"}
CHUNK = 2000  # rows per INSERT: 26,000 parameters, under SQLite's limit


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _new_table_sql() -> str:
    types = {"division_code": "varchar(12)", "school_code": "varchar(20)", "point_id": "integer", "stage": "varchar(15)",
             "students": "integer", "verdict": "varchar(12)", "schools_fitted": "integer"}
    cols = ", ".join(f"{_q(c)} {'numeric' if c in NUMERIC else types[c]}" for c in (*KEY, *UPDATED))
    # Keyed as the result table is: the stale-row delete probes it once per existing row.
    return f"CREATE TEMP TABLE rollup_va_new ({cols}, PRIMARY KEY ({', '.join(_q(c) for c in KEY)}))"


def _stale_sql() -> str:
    match = " AND ".join(f"n.{_q(c)} = evaluation_valueadded.{_q(c)}" for c in KEY)
    return (
        "DELETE FROM evaluation_valueadded WHERE period = %(period)s AND division_code >= %(lo)s AND division_code < %(hi)s "
        f"AND NOT EXISTS (SELECT 1 FROM rollup_va_new n WHERE {match}) RETURNING division_code"
    )


def _write_sql() -> str:
    cols = [*KEY, *UPDATED]
    changed = " OR ".join(f"evaluation_valueadded.{_q(c)} <> EXCLUDED.{_q(c)}" for c in UPDATED)
    return (
        f"INSERT INTO evaluation_valueadded ({', '.join(_q(c) for c in cols)}, period, computed_at) "
        f"SELECT {', '.join(_q(c) for c in cols)}, %(period)s, %(now)s FROM rollup_va_new WHERE 1 = 1 "
        "ON CONFLICT (division_code, school_code, point_id, period, stage) "
        f"DO UPDATE SET {', '.join(f'{_q(c)} = EXCLUDED.{_q(c)}' for c in [*UPDATED, 'computed_at'])} "
        f"WHERE {changed} RETURNING division_code"
    )


@transaction.atomic
def rollup_value_added(*, period: int, province: str = "37") -> set[str]:
    """Recompute a province's value-added of one school year and write what changed, set-based:
    the rows go to a temporary table; one statement deletes the rows it no longer has, one upserts
    the changed and new ones (rows whose figures are the same are left alone). Idempotent. Returns
    the 乡镇 whose rows changed (their pages' tokens must be renewed: another county's data moves
    their fit)."""
    from django.utils import timezone

    rows = compute_value_added(period=period, province=province)
    params = {"period": period, **prefix_range(province), "now": connection.ops.adapt_datetimefield_value(timezone.now())}
    width = len(KEY) + len(UPDATED)
    changed: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rollup_va_new")
        cursor.execute(_new_table_sql())
        if connection.vendor == "sqlite":
            # SQLite's own executemany is a loop in C; long multi-row statements cost Django a
            # regex pass over each.
            cursor.executemany("INSERT INTO rollup_va_new VALUES (" + ", ".join(["%s"] * width) + ")", rows)
        else:
            # On PostgreSQL executemany is a round trip per row: a few thousand rows a statement.
            for i in range(0, len(rows), CHUNK):
                part = rows[i:i + CHUNK]
                values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(part))
                cursor.execute(f"INSERT INTO rollup_va_new VALUES {values}", [v for r in part for v in r])
        cursor.execute(_stale_sql(), params)
        changed.update(r[0] for r in cursor.fetchall())
        cursor.execute(_write_sql(), params)
        changed.update(r[0] for r in cursor.fetchall())
        cursor.execute("DROP TABLE rollup_va_new")
    return changed
