"""增值性评价 (value-added): for every continuous data point read off school facts, per stage and
school year, what each seat school reached against what was expected from its own last year.

The model, per (point, stage, year), over every seat school of the province with a value in both
years: weighted least squares of this year's value on last year's (a straight line, intercept and
slope), each school weighted by its students, because a school's value is an average over its
pupils and a large school's is the steadier (its residual variance taken as σ²/students). The
expected value is the line at the school's own last year; the value-added is actual − expected,
and its 95 % interval is the line's prediction interval for one new school of that size — what
statsmodels' `WLS(...).get_prediction(...)` gives as obs_ci, here in closed form in SQL (one
regressor: weighted means and sums of squares), which tests/test_value_added_reference.py holds
to statsmodels row by row: the spread of schools around the line plus the uncertainty of the line
itself. A school is 显著高于/低于预期 only when that interval excludes 0.

A 乡镇's value-added is the student-weighted mean of its seat schools' (of the stage); its actual
and expected are the same weighted means, and its interval is the prediction interval of that
mean — the line at the weighted mean of the schools' last-year values, for a "school" of their
total students — which assumes the schools' deviations from the line are independent.

There is no pupil-level data: it is an estimate about schools, not pupils, and says nothing about
why a school is where it is. The fit is province-wide, so one county's change moves every school's
expected value of that year: the province's rows of a year are recomputed together, when the
province's area counts are, and so always equal a recomputation from scratch. All of it is set-based SQL over temporary tables: the rows
never come to Python (building and comparing 76,772 rows there cost seconds).
"""
from __future__ import annotations

from django.db import connection, transaction
from django.db.models import BooleanField, CharField

from evaluation.models import Aggregation, ObservationPoint, PointScale, SchoolYear, SourceKind, ValueAddedVerdict

from . import words as w
from .scope import framework_for_period, planner_without, prefix_range, tune

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


UPDATED = ["students", "previous", "actual", "expected", "value_added", "lower", "upper", "verdict", "schools_fitted"]
KEY = ("division_code", "school_code", "point_id", "stage")
NUMERIC = {"previous", "actual", "expected", "value_added", "lower", "upper"}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _float() -> str:
    return "double precision" if connection.vendor == "postgresql" else "REAL"


def _round(expr: str) -> str:
    """Six decimals, as the columns keep them, so an unchanged figure compares equal and is left
    alone. PostgreSQL rounds only numeric, and a float's cast to numeric goes through text (0.45 s
    for Shandong's six figures a row): scaled and rounded as a float, it converts from an integer."""
    if connection.vendor == "postgresql":
        return f"CAST(ROUND(({expr}) * 1000000) AS bigint) * 0.000001"
    return f"ROUND({expr}, 6)"


def _as_float(ref: str) -> str:
    return f"CAST({ref} AS {_float()})"


def _point_value(point: ObservationPoint, year: str) -> str:
    """A point's value of one year (`c` this year, `p` last) in SQL, as the rules read it: the
    column, or the column over its denominator (none when the denominator is 0 or blank)."""
    if point.denominator:
        return f"CASE WHEN {year}_{point.denominator} <> 0 THEN {year}_{point.column} / {year}_{point.denominator} END"
    return f"{year}_{point.column}"


def _units_sql(points: list[ObservationPoint]) -> str:
    """Every (point, stage, seat school) with a value in both years, into a temporary table: one
    join of this year's school-years with last year's, crossed with the points' stages."""
    columns = sorted({c for p in points for c in (p.column, p.denominator) if c})
    values = "".join(
        f", {_as_float(f'{year}.{_q(SchoolYear._meta.get_field(c).column)}')} AS {prefix}_{c}"
        for c in columns for year, prefix in (("cur", "c"), ("prev", "p"))
    )
    point_stages = ", ".join(f"({int(p.pk)}, {w.literal(stage)})" for p in points for stage in p.stage_list)
    value = lambda year: "CASE ps.point_id " + " ".join(f"WHEN {int(p.pk)} THEN {_point_value(p, year)}" for p in points) + " END"  # noqa: E731
    return f"""
CREATE TEMP TABLE rollup_va_units AS
WITH sm(school_stage, stage) AS (VALUES {w.STAGE_VALUES}),
ps(point_id, stage) AS (VALUES {point_stages}),
pairs AS (
  SELECT s.code AS school_code, cur.township_id AS division_code, sm.stage AS stage, {_as_float("cur.students")} AS w{values}
  FROM evaluation_schoolyear cur
  JOIN evaluation_schoolyear prev ON prev.school_id = cur.school_id AND prev.period = %(period)s - 1
  JOIN townships_school s ON s.id = cur.school_id
  JOIN sm ON sm.school_stage = s.stage
  WHERE cur.period = %(period)s AND cur.township_id >= %(lo)s AND cur.township_id < %(hi)s AND s.is_seat AND cur.students > 0
)
SELECT * FROM (
  SELECT ps.point_id AS point_id, pairs.stage AS stage, pairs.school_code AS school_code, pairs.division_code AS division_code,
         pairs.w AS w, {value("p")} AS x, {value("c")} AS y
  FROM pairs JOIN ps ON ps.stage = pairs.stage
) u WHERE x IS NOT NULL AND y IS NOT NULL
"""


# The line of each (point, stage): weighted means first, then the sums of squares about them and
# the residuals about the line — three passes rather than Σwx² − (Σwx)²/Σw, whose cancellation
# loses the digits the interval is made of when the values are large and close together.
FIT_SQL = """
WITH g AS (
  SELECT point_id, stage, COUNT(*) AS n, SUM(w) AS sw, SUM(w * x) / SUM(w) AS mx, SUM(w * y) / SUM(w) AS my
  FROM rollup_va_units GROUP BY point_id, stage HAVING COUNT(*) >= %(min_schools)s AND MAX(x) > MIN(x)
),
c AS (
  SELECT g.point_id, g.stage, SUM(u.w * (u.x - g.mx) * (u.x - g.mx)) AS cxx, SUM(u.w * (u.x - g.mx) * (u.y - g.my)) AS cxy
  FROM g JOIN rollup_va_units u ON u.point_id = g.point_id AND u.stage = g.stage GROUP BY g.point_id, g.stage
),
line AS (
  SELECT g.point_id, g.stage, g.n, g.sw, g.mx, c.cxx, c.cxy / c.cxx AS b, g.my - c.cxy / c.cxx * g.mx AS a
  FROM g JOIN c ON c.point_id = g.point_id AND c.stage = g.stage
)
SELECT line.point_id, line.stage, line.n, line.sw, line.mx, line.cxx, line.b, line.a,
       SUM(u.w * (u.y - line.a - line.b * u.x) * (u.y - line.a - line.b * u.x)) AS rss
FROM line JOIN rollup_va_units u ON u.point_id = line.point_id AND u.stage = line.stage
GROUP BY line.point_id, line.stage, line.n, line.sw, line.mx, line.cxx, line.b, line.a
"""


def fits(cursor) -> list[tuple]:
    """(point, stage, n, a, b, mean x, Cxx, Σw, σ², t) of each line the units carry: the sums in
    SQL, σ² and Student's t quantile (n − 2 degrees of freedom) here."""
    from scipy.special import stdtrit

    cursor.execute(FIT_SQL, {"min_schools": MIN_SCHOOLS})
    out = []
    for point_id, stage, n, sw, mx, cxx, b, a, rss in cursor.fetchall():
        sigma2 = max(float(rss), 0.0) / (n - 2)
        out.append((point_id, stage, n, float(a), float(b), float(mx), float(cxx), float(sw), sigma2, float(stdtrit(n - 2, 0.975))))
    return out


def _rows_sql(count: int) -> str:
    """The school and 乡镇 rows of every line, into the temporary table the write reads. A 乡镇 is
    the student-weighted mean of its schools, predicted as one "school" of their total students.
    The prediction interval for a unit of weight w at x: a + b·x ± t·√(σ²·(1/Σw + (x − x̄)²/Cxx + 1/w))."""
    f = _float()
    one = "(" + ", ".join(["CAST(%s AS integer)", "CAST(%s AS varchar(15))", "CAST(%s AS integer)"] + [f"CAST(%s AS {f})"] * 7) + ")"
    half = "f.t * SQRT(f.s2 * (1.0 / f.sw + (r.x - f.mx) * (r.x - f.mx) / f.cxx + 1.0 / r.w))"
    cols = ", ".join(_q(c) for c in (*KEY, *UPDATED))
    return f"""
WITH f(point_id, stage, n, a, b, mx, cxx, sw, s2, t) AS (VALUES {", ".join([one] * count)}),
r AS (
  SELECT division_code, school_code, point_id, stage, w, x, y FROM rollup_va_units
  UNION ALL
  SELECT division_code, '', point_id, stage, SUM(w), SUM(w * x) / SUM(w), SUM(w * y) / SUM(w)
  FROM rollup_va_units GROUP BY division_code, point_id, stage
),
p AS (
  SELECT r.division_code, r.school_code, r.point_id, r.stage, r.w, r.x, r.y, f.n,
         f.a + f.b * r.x AS e, {half} AS h
  FROM r JOIN f ON f.point_id = r.point_id AND f.stage = r.stage
)
INSERT INTO rollup_va_new ({cols})
SELECT division_code, school_code, point_id, stage, CAST(w AS integer), {_round("x")}, {_round("y")}, {_round("e")},
       {_round("y - e")}, {_round("y - e - h")}, {_round("y - e + h")},
       CASE WHEN y - e - h > 0 THEN {w.literal(ValueAddedVerdict.ABOVE)} WHEN y - e + h < 0 THEN {w.literal(ValueAddedVerdict.BELOW)}
            ELSE {w.literal(ValueAddedVerdict.AS_EXPECTED)} END, n
FROM p
"""


def _new_table_sql() -> str:
    types = {"division_code": "varchar(12)", "school_code": "varchar(20)", "point_id": "integer", "stage": "varchar(15)",
             "students": "integer", "verdict": "varchar(12)", "schools_fitted": "integer"}
    cols = ", ".join(f"{_q(c)} {'numeric' if c in NUMERIC else types[c]}" for c in (*KEY, *UPDATED))
    if connection.vendor == "postgresql":
        # Analyzed, it is hashed by the statements that read it: a key would only cost its upkeep.
        return f"CREATE TEMP TABLE rollup_va_new ({cols})"
    # Keyed as the result table is: SQLite probes it once per existing row.
    return f"CREATE TEMP TABLE rollup_va_new ({cols}, PRIMARY KEY ({', '.join(_q(c) for c in KEY)}))"


def _stale_sql() -> str:
    match = " AND ".join(f"n.{_q(c)} = evaluation_valueadded.{_q(c)}" for c in KEY)
    return (
        "DELETE FROM evaluation_valueadded WHERE period = %(period)s AND division_code >= %(lo)s AND division_code < %(hi)s "
        f"AND NOT EXISTS (SELECT 1 FROM rollup_va_new n WHERE {match}) RETURNING division_code"
    )


def _key_match(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{_q(c)} = {b}.{_q(c)}" for c in KEY)


# Hashed, the province's rows are the table's side of each join: the period alone would hash the
# whole country's for every province (a national recomputation went quadratic: 261 s).
_IN_PROVINCE = "v.division_code >= %(lo)s AND v.division_code < %(hi)s"


def _update_sql() -> str:
    """The rows whose figures changed, rewritten in one join (a hash join once the temporary
    table has statistics; an upsert probes the unique index once per row, changed or not)."""
    changed = " OR ".join(f"v.{_q(c)} <> n.{_q(c)}" for c in UPDATED)
    # SQLite's RETURNING sees the updated table alone, by its name; PostgreSQL's sees the join.
    returning = "v.division_code" if connection.vendor == "postgresql" else "division_code"
    return (
        f"UPDATE evaluation_valueadded AS v SET {', '.join(f'{_q(c)} = n.{_q(c)}' for c in UPDATED)}, computed_at = %(now)s "
        f"FROM rollup_va_new n WHERE {_key_match('n', 'v')} AND v.period = %(period)s AND {_IN_PROVINCE} AND ({changed}) "
        f"RETURNING {returning}"
    )


def _insert_sql() -> str:
    """The new rows. Upserted all the same: a recomputation of the province committing meanwhile
    (the nightly job beside a count) may have inserted one since the anti-join read."""
    cols = [*KEY, *UPDATED]
    return (
        f"INSERT INTO evaluation_valueadded ({', '.join(_q(c) for c in cols)}, period, computed_at) "
        f"SELECT {', '.join('n.' + _q(c) for c in cols)}, %(period)s, %(now)s FROM rollup_va_new n "
        f"WHERE NOT EXISTS (SELECT 1 FROM evaluation_valueadded v WHERE {_key_match('n', 'v')} AND v.period = %(period)s AND {_IN_PROVINCE}) "
        "ON CONFLICT (division_code, school_code, point_id, period, stage) "
        f"DO UPDATE SET {', '.join(f'{_q(c)} = EXCLUDED.{_q(c)}' for c in [*UPDATED, 'computed_at'])} "
        "RETURNING division_code"
    )


@transaction.atomic
def rollup_value_added(*, period: int, province: str = "37") -> set[str]:
    """Recompute a province's value-added of one school year and write what changed, set-based:
    the units and the rows are made by SQL in temporary tables (only the lines' sums come back to
    Python, for Student's t); one statement deletes the rows no longer there, one rewrites the
    changed ones and one inserts the new (rows whose figures are the same are left alone). Idempotent. Returns
    the 乡镇 whose rows changed (their pages' tokens must be renewed: another county's data moves
    their fit)."""
    from django.utils import timezone

    points = continuous_points(framework_for_period(period))
    params = {"period": period, **prefix_range(province), "now": connection.ops.adapt_datetimefield_value(timezone.now())}
    changed: set[str] = set()
    with connection.cursor() as cursor:
        for table in ("rollup_va_new", "rollup_va_units"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        tune(cursor)
        cursor.execute(_new_table_sql())
        lines = []
        if points:
            cursor.execute(_units_sql(points), params)
            lines = fits(cursor)
        if lines:
            cursor.execute(_rows_sql(len(lines)), [v for line in lines for v in line])
        # Each statement matches the whole table against the province's rows (76,772 for
        # Shandong): hashing one is the plan.
        with planner_without(cursor, "nestloop"):
            for sql in (_stale_sql(), _update_sql(), _insert_sql()):
                cursor.execute(sql, params)
                changed.update(r[0] for r in cursor.fetchall())
        cursor.execute("DROP TABLE rollup_va_new")
        if points:
            cursor.execute("DROP TABLE rollup_va_units")
    return changed
