"""The data points: every observation point of a framework read off the facts (school years,
township years, help relations), for every 乡/镇 under a code prefix, in a handful of statements.

The base rows are made once (every school-year once per stage it counts for, every fact as a
number), then grouped twice — by (township, stage) over the schools that count, and by (county,
stage) over the urban schools for the references — each grouping computing every point's
aggregate as a column of its own. One INSERT … SELECT then unfolds the columns into a row per
township, point and stage, with last year's value beside it. Two passes over the base rows
whatever the number of points, the result table written once; the same on SQLite and PostgreSQL.
`evaluation.rules` reads the same rules for one township in Python and is the oracle the tests
hold this to.
"""
from __future__ import annotations

from django.db import connection, transaction
from django.db.models import BooleanField, CharField

from evaluation.models import Aggregation, ObservationPoint, RuleKind, SchoolYear, SourceKind, TownshipYear, TrendReading
from evaluation.vocabulary import EvaluationStage

from . import words as w
from .scope import (
    HELD_COUNTIES_SQL,
    drop_unheld,
    framework_for_period,
    frameworks_in_use,
    has_results,
    insert_or_upsert,
    planner_without,
    prefix_range,
    tune,
    work_mem,
)


def _numeric(model, column: str, alias: str) -> str:
    """A column as a number: booleans 1/0, grades on their scale, blanks NULL. Column names come
    from the model (validated when the framework is loaded), never from user input."""
    field = model._meta.get_field(column)
    ref = f"{alias}.{connection.ops.quote_name(field.column)}"
    if isinstance(field, BooleanField):
        return f"(CASE WHEN {ref} THEN 1.0 WHEN NOT {ref} THEN 0.0 END)"
    if isinstance(field, CharField):
        return "(" + w.grade_number(ref) + ")"
    return f"({ref} * 1.0)"


def _pass(point: ObservationPoint, expr: str) -> str:
    if point.rule == RuleKind.YES_NO:
        return f"{expr} >= 1"
    if point.rule == RuleKind.AT_MOST:
        return f"{expr} <= {float(point.threshold)}"
    return f"{expr} >= {float(point.threshold)}"


def _aggregate(point: ObservationPoint, x: str, d: str) -> str:
    """The point's aggregate of the value `x` (and denominator `d`) over a group of schools —
    the one builder both groupings (townships and urban references) use. A school lacking
    either half of a ratio is left out of both sums."""
    if point.aggregation == Aggregation.RATIO_OF_SUMS:
        return f"SUM(CASE WHEN {d} IS NOT NULL THEN {x} END) / NULLIF(SUM(CASE WHEN {x} IS NOT NULL THEN {d} END), 0)"
    if point.aggregation == Aggregation.WEIGHTED_MEAN:
        return f"SUM({x} * students) / NULLIF(SUM(CASE WHEN {x} IS NOT NULL THEN students END), 0)"
    return f"AVG({x})"


def _school_x(point: ObservationPoint) -> tuple[str, str]:
    """The base-row columns a school point reads: its value and its denominator (or NULL)."""
    x = f"c_{point.column}" if point.source_kind == SourceKind.SCHOOL_COLUMN else "helped"
    d = f"c_{point.denominator}" if point.denominator else "NULL"
    return x, d


def _town_columns(point: ObservationPoint, i: int) -> list[str]:
    """The point's columns in the township grouping: its value, and for every-school points how
    many schools have a value (one without makes the point insufficient)."""
    x, d = _school_x(point)
    if point.aggregation == Aggregation.ALL_PASS:
        value = f"SUM(CASE WHEN {_pass(point, x)} THEN 1.0 ELSE 0.0 END) / COUNT(*)"
        if point.source_kind == SourceKind.HELP:
            value = f"MIN({x})"
        return [f"{value} AS v{i}", f"COUNT({x}) AS nx{i}"]
    return [f"{_aggregate(point, x, d)} AS v{i}"]


def _ref_column(point: ObservationPoint, i: int) -> str | None:
    """The point's column in the urban grouping, if its rule compares with the urban schools."""
    if point.aggregation == Aggregation.ALL_PASS or point.rule not in (RuleKind.URBAN_GAP, RuleKind.QUALITY_GAP):
        return None
    x, d = _school_x(point)
    if point.rule == RuleKind.QUALITY_GAP:
        # Only the quality schools: the others' values are blanked, which every aggregate skips.
        x = f"(CASE WHEN is_urban_quality THEN {x} END)"
        d = f"(CASE WHEN is_urban_quality THEN {d} END)" if d != "NULL" else d
    return f"{_aggregate(point, x, d)} AS r{i}"


def _school_arm(point: ObservationPoint, i: int) -> str:
    """A school point's rows from the grouped tables: value, reference and verdict."""
    stages = ", ".join(w.literal(s) for s in point.stage_list)
    value = f"g.v{i}"
    if point.aggregation == Aggregation.ALL_PASS:
        reference = "NULL"
        verdict = (
            f"CASE WHEN g.n IS NULL THEN {w.INSUFFICIENT} WHEN g.nx{i} < g.n THEN {w.INSUFFICIENT} "
            f"WHEN {value} >= 1 THEN {w.ATTAINED} ELSE {w.NOT_ATTAINED} END"
        )
    else:
        if point.rule in (RuleKind.URBAN_GAP, RuleKind.QUALITY_GAP):
            reference = f"g.r{i}"
            if point.rule == RuleKind.URBAN_GAP:
                decide = f"WHEN {reference} IS NULL THEN {w.INSUFFICIENT} WHEN {value} >= {reference} THEN {w.ATTAINED}"
            else:
                decide = (
                    f"WHEN {reference} IS NULL OR {reference} = 0 THEN {w.INSUFFICIENT} "
                    f"WHEN ({reference} - {value}) / {reference} < {float(point.threshold)} THEN {w.ATTAINED}"
                )
        else:
            reference = f"{float(point.threshold)}" if point.threshold is not None else "NULL"
            decide = f"WHEN {_pass(point, value)} THEN {w.ATTAINED}"
        verdict = f"CASE WHEN {value} IS NULL THEN {w.INSUFFICIENT} {decide} ELSE {w.NOT_ATTAINED} END"
    return (
        f"SELECT g.code AS code, {int(point.pk)} AS point_id, g.stage AS stage, {value} AS value, {reference} AS reference, {verdict} AS verdict\n"
        f"FROM rollup_grid g WHERE g.stage IN ({stages})"
    )


def _township_point_exprs(point: ObservationPoint) -> tuple[str, str, str]:
    """Value, reference and verdict of a township point over `cur` and `prev` (TownshipYear)."""
    def rate(alias):
        num = _numeric(TownshipYear, point.column, alias)
        if not point.denominator:
            return num
        den = _numeric(TownshipYear, point.denominator, alias)
        return f"(CASE WHEN {den} > 0 THEN {num} / {den} END)"

    if point.rule == RuleKind.TREND:
        reference = rate("prev")
        ceiling = f"WHEN {rate('cur')} >= {float(point.threshold)} THEN {w.ATTAINED} " if point.threshold is not None else ""
        compare = ">=" if point.trend_reading == TrendReading.NOT_FALLEN else ">"
        verdict = (
            f"CASE WHEN {rate('cur')} IS NULL THEN {w.INSUFFICIENT} {ceiling}"
            f"WHEN {reference} IS NULL THEN {w.INSUFFICIENT} "
            f"WHEN {rate('cur')} {compare} {reference} THEN {w.ATTAINED} ELSE {w.NOT_ATTAINED} END"
        )
    else:
        reference = f"{float(point.threshold)}" if point.threshold is not None else "NULL"
        too_few = ""
        if point.rule == RuleKind.THRESHOLD and point.denominator and point.min_valid is not None:
            # A survey rate from too few valid answers says nothing either way.
            too_few = f"WHEN {_numeric(TownshipYear, point.denominator, 'cur')} < {int(point.min_valid)} THEN {w.INSUFFICIENT} "
        verdict = (
            f"CASE WHEN {rate('cur')} IS NULL THEN {w.INSUFFICIENT} {too_few}"
            f"WHEN {_pass(point, rate('cur'))} THEN {w.ATTAINED} ELSE {w.NOT_ATTAINED} END"
        )
    return rate("cur"), reference, verdict


# Each township with this year's and last year's facts. The range again on the facts (the
# townships are inside it already) lets their index find the area's rows: without it each of the
# township points' arms read the whole country's (80 ms of a 0.9 s province).
TOWNSHIP_FACTS = (
    "FROM rollup_towns d\n"
    "LEFT JOIN evaluation_townshipyear cur ON cur.township_id = d.code AND cur.period = %(period)s\n"
    "  AND cur.township_id >= %(lo)s AND cur.township_id < %(hi)s\n"
    "LEFT JOIN evaluation_townshipyear prev ON prev.township_id = d.code AND prev.period = %(period)s - 1\n"
    "  AND prev.township_id >= %(lo)s AND prev.township_id < %(hi)s"
)


def _township_arm(point: ObservationPoint) -> str:
    """A township point's rows: this year's and last year's facts of each township."""
    value, reference, verdict = _township_point_exprs(point)
    stage = w.literal(point.stages or EvaluationStage.ALL)
    return (
        f"SELECT d.code AS code, {int(point.pk)} AS point_id, {stage} AS stage, {value} AS value, {reference} AS reference, {verdict} AS verdict\n"
        + TOWNSHIP_FACTS
    )


# The conflict clause of every write to the point results (data points here, judgments in
# `verdicts`). Rows whose result did not change are left alone: a nightly run over unchanged data
# writes little. Judgments carry no previous value (NULL over NULL), so they share it.
POINTS_UPSERT = """
ON CONFLICT (division_code, point_id, period, round_key, stage)
DO UPDATE SET value = EXCLUDED.value, reference = EXCLUDED.reference, verdict = EXCLUDED.verdict,
              previous_value = EXCLUDED.previous_value, computed_at = EXCLUDED.computed_at
WHERE evaluation_pointresult.value IS DISTINCT FROM EXCLUDED.value
   OR evaluation_pointresult.reference IS DISTINCT FROM EXCLUDED.reference
   OR evaluation_pointresult.verdict <> EXCLUDED.verdict
   OR evaluation_pointresult.previous_value IS DISTINCT FROM EXCLUDED.previous_value
"""


def _alias(column: str) -> str:
    return column.rsplit(" AS ", 1)[1]


def _points_sql(points: list[ObservationPoint], previous: dict[int, int] | None = None, *, last_year: bool = True) -> tuple[list[str], str | None]:
    """The statements computing every data point of `points` — the groupings — and the write,
    without its conflict clause. `previous`: point id → the id whose result last year is this
    point's previous value (the same code in last year's version); a point missing from it
    reads its own. `last_year` False: there are no results of last year to read."""
    school = [p for p in points if p.source_kind in (SourceKind.SCHOOL_COLUMN, SourceKind.HELP)]
    township = [p for p in points if p.source_kind == SourceKind.TOWNSHIP_COLUMN]
    town_cols = [c for i, p in enumerate(school) for c in _town_columns(p, i)]
    ref_cols = [c for i, p in enumerate(school) if (c := _ref_column(p, i))]
    arms = [_school_arm(p, i) for i, p in enumerate(school)] + [_township_arm(p) for p in township]
    statements = [
        "CREATE TEMP TABLE rollup_towns AS SELECT d.code AS code, SUBSTR(d.code, 1, 6) AS county FROM townships_division d "
        "WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s "
        f"AND SUBSTR(d.code, 1, 6) IN ({HELD_COUNTIES_SQL})",
        "CREATE TEMP TABLE rollup_town AS SELECT code, stage, COUNT(*) AS n"
        + "".join(f", {c}" for c in town_cols)
        + " FROM rollup_rows WHERE counted = 1 GROUP BY code, stage",
        "CREATE TEMP TABLE rollup_ref AS SELECT county, stage"
        + "".join(f", {c}" for c in ref_cols)
        + " FROM rollup_rows WHERE is_urban GROUP BY county, stage",
        # Joined once, so each point's rows are a scan of one small table.
        "CREATE TEMP TABLE rollup_grid AS SELECT b.code AS code, st.stage AS stage, t.n AS n"
        + "".join(f", t.{_alias(c)}" for c in town_cols)
        + "".join(f", r.{_alias(c)}" for c in ref_cols)
        + " FROM rollup_towns b CROSS JOIN rollup_stages st"
        " LEFT JOIN rollup_town t ON t.code = b.code AND t.stage = st.stage"
        " LEFT JOIN rollup_ref r ON r.county = b.county AND r.stage = st.stage",
    ]
    if not arms:
        return statements, None
    union = "\nUNION ALL\n".join(arms)
    pairs = [(int(a), int(b)) for a, b in (previous or {}).items() if a != b]
    previous_point = ("CASE x.point_id " + " ".join(f"WHEN {a} THEN {b}" for a, b in pairs) + " ELSE x.point_id END") if pairs else "x.point_id"
    # The previous year's value joins in as the row is written: no second pass rewriting every row.
    # With no results of last year under the range there is nothing to join (a first year).
    previous_value, join = "prev.value", (
        "LEFT JOIN evaluation_pointresult prev\n"
        f"  ON prev.division_code = x.code AND prev.point_id = {previous_point} AND prev.period = %(period)s - 1 "
        "AND prev.round_key = 0 AND prev.stage = x.stage"
    )
    if not last_year:
        previous_value, join = "NULL", ""
    # In the result index's order: each township's rows go into the same few index pages one
    # after another, not point by point all over the index (at national scale the sort costs 1 s
    # and saves 2).
    write = f"""
WITH x AS (
{union}
)
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, reference, verdict, previous_value, computed_at)
SELECT x.code, x.point_id, %(period)s, 0, x.stage, x.value, x.reference, x.verdict, {previous_value}, %(now)s
FROM x {join}
WHERE 1 = 1
ORDER BY x.code, x.point_id, x.stage
"""
    return statements, write


def _base_rows_sql(points: list[ObservationPoint] | None = None) -> str:
    """One pass over SchoolYear ⋈ School for the area: every school-year once per stage it counts
    for, every fact as a number, whether it counts for its township (seat school, or any school
    in a 全域提升 township) and whether it is helped. Each point's columns read this."""
    facts = [f.name for f in SchoolYear._meta.concrete_fields if f.name not in ("id", "school", "period", "township", "updated_at", "updated_by_import")]
    if points is not None:
        # Only the facts the points read: a narrower table to write and to group.
        used = {c for p in points if p.source_kind == SourceKind.SCHOOL_COLUMN for c in (p.column, p.denominator) if c}
        facts = [f for f in facts if f in used]
    columns = "".join(f", {_numeric(SchoolYear, f, 'sy')} AS c_{f}" for f in facts)
    return f"""
CREATE TEMP TABLE rollup_rows AS
WITH sm(school_stage, stage) AS (VALUES {w.STAGE_VALUES}),
whole AS (
  SELECT pt.township_id AS code FROM townships_pilottownship pt JOIN townships_pilotbatch pb ON pb.id = pt.batch_id
  WHERE pt.phase = 'whole' AND {w.pilot_in_year("pt", "pb")} AND NOT EXISTS (
    SELECT 1 FROM townships_pilottownship p2 JOIN townships_pilotbatch b2 ON b2.id = p2.batch_id
    WHERE p2.township_id = pt.township_id AND b2.year > pb.year AND {w.pilot_in_year("p2", "b2")})
)
SELECT sy.township_id AS code, SUBSTR(sy.township_id, 1, 6) AS county, sm.stage AS stage,
       CASE WHEN s.is_seat OR sy.township_id IN (SELECT code FROM whole) THEN 1 ELSE 0 END AS counted,
       s.is_urban AS is_urban, s.is_urban_quality AS is_urban_quality, sy.students * 1.0 AS students,
       -- A probe of the helped school's index, not a join to a derived table: SQLite cannot
       -- index a materialised CTE and rescanned it for every school-year (4.8 s of a 5.6 s province).
       (CASE WHEN EXISTS (SELECT 1 FROM evaluation_helprelation h WHERE h.helped_id = s.id AND h.period = %(period)s) THEN 1.0 ELSE 0.0 END) AS helped
       {columns}
FROM evaluation_schoolyear sy
JOIN townships_school s ON s.id = sy.school_id
JOIN sm ON sm.school_stage = s.stage
WHERE sy.period = %(period)s AND sy.township_id >= %(lo)s AND sy.township_id < %(hi)s
"""


TEMP_TABLES = ("rollup_rows", "rollup_stages", "rollup_towns", "rollup_town", "rollup_ref", "rollup_grid")


def _drop_temp(cursor) -> None:
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _create_base(cursor, params, points=None) -> None:
    _drop_temp(cursor)
    cursor.execute(_base_rows_sql(points), params)
    cursor.execute(f"CREATE TEMP TABLE rollup_stages AS WITH sm(school_stage, stage) AS (VALUES {w.STAGE_VALUES}) SELECT DISTINCT stage FROM sm")


def previous_points(points: list[ObservationPoint], period: int) -> dict[int, int]:
    """Each point's counterpart in the version in force last year, matched by code: a new version
    keeps comparing a point with what it was last year (pages say when the versions differ)."""
    before = framework_for_period(period - 1)
    if before is None:
        return {}
    by_code = dict(ObservationPoint.objects.filter(target__framework=before).values_list("code", "pk"))
    return {p.pk: by_code.get(p.code, p.pk) for p in points}


# A write of at least this many rows (a country's, not a province's) is a bulk write: statistics are refreshed after it.
BULK_WRITE_ROWS = 200_000

STALE_POINTS_SQL = """
DELETE FROM evaluation_pointresult
WHERE period = %(period)s AND round_key = 0 AND division_code >= %(lo)s AND division_code < %(hi)s AND point_id NOT IN ({ids})
"""


@transaction.atomic
def rollup_points(*, period: int, prefix: str, framework=None) -> int:
    """Recompute the data points for the 乡镇 under `prefix` (a county, city or province code),
    with last year's value beside each: of every framework version the year's results are judged
    by (the one in force, those its rounds name) — or of `framework` alone — and remove the points
    of versions no longer used. Returns the number of statements run — the same whatever the
    number of points and townships."""
    from django.utils import timezone

    frameworks = [framework] if framework is not None else frameworks_in_use(period)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"period": period, **prefix_range(prefix), "now": now}
    every = list(ObservationPoint.objects.filter(target__framework__in=frameworks).order_by("pk"))
    points = [p for p in every if p.source_kind != SourceKind.JUDGMENT]
    with connection.cursor() as cursor:
        tune(cursor)
        last_year = has_results(cursor, table="evaluation_pointresult", params={**params, "period": period - 1, "round": 0})
        statements, write = _points_sql(points, previous_points(points, period), last_year=last_year)
        if framework is None:
            ids = ", ".join(str(int(p.pk)) for p in every) or "NULL"
            cursor.execute(STALE_POINTS_SQL.format(ids=ids), params)
            drop_unheld(cursor, "evaluation_pointresult", params)
        _create_base(cursor, params, points)
        *groupings, grid = statements
        for sql in groupings:
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            # Fresh temporary tables have no statistics: guessing, the planner merged the grid's
            # joins and rescanned the references half a million times (1 s of a 5 s province).
            # Of the join keys only: a statistic of each of the groupings' 60 value columns was
            # most of the ANALYZE's time (0.3 s at national scale), and no plan reads them.
            cursor.execute("ANALYZE rollup_towns (code, county), rollup_town (code, stage), rollup_ref (county, stage)")
        cursor.execute(grid, params)
        if write:
            # The write's sort into the index's order holds every row of the area: a country's
            # (1.5 million) spilled to disk in 64 MB.
            with planner_without(cursor, "nestloop"), work_mem(cursor, "256MB"):  # last year's results join in
                written, _rows = insert_or_upsert(cursor, insert=write, upsert=POINTS_UPSERT, table="evaluation_pointresult",
                                                  params={**params, "round": 0})
            statements.append(write)
            if connection.vendor == "postgresql" and written >= BULK_WRITE_ROWS:
                # The targets and the area counts read these rows next. Right after a bulk write
                # the planner takes the table's ranges for a few rows and sorted 1.5 million on
                # disk twice (3.6 s of a national roll-up); fresh statistics (0.15 s) hash them.
                cursor.execute("ANALYZE evaluation_pointresult")
        _drop_temp(cursor)
    return len(statements)

