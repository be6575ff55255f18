"""The roll-up in SQL: every observation point of a framework, for every 乡/镇 under a code
prefix — the base rows once, grouped twice (townships, urban references), every point unfolded
from those groupings in one INSERT … SELECT (ON CONFLICT when results exist) — then targets,
townships and areas; set-based, idempotent, the same on SQLite and PostgreSQL.
`evaluation/rules.py` reads the same rules for one township in Python and is the oracle the tests
hold this to."""
from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, CharField

from evaluation.results_version import bump_results_version
from evaluation.models import Aggregation, ObservationPoint, RuleKind, SchoolYear, SourceKind, TownshipYear

STAGE_MAP = (
    ("kindergarten", "kindergarten"), ("primary", "primary"), ("junior", "junior"),
    ("nine_year", "primary"), ("nine_year", "junior"), ("complete_middle", "junior"),
    ("twelve_year", "primary"), ("twelve_year", "junior"),
)
GRADES = "CASE {c} WHEN 'excellent' THEN 4.0 WHEN 'good' THEN 3.0 WHEN 'pass' THEN 2.0 WHEN 'fail' THEN 1.0 END"


def _numeric(model, column: str, alias: str) -> str:
    """A column as a number: booleans 1/0, grades 4..1, blanks NULL. Column names come from the
    model (validated when the framework is loaded), never from user input."""
    field = model._meta.get_field(column)
    ref = f"{alias}.{connection.ops.quote_name(field.column)}"
    if isinstance(field, BooleanField):
        return f"(CASE WHEN {ref} THEN 1.0 WHEN NOT {ref} THEN 0.0 END)"
    if isinstance(field, CharField):
        return "(" + GRADES.format(c=ref) + ")"
    return f"({ref} * 1.0)"


def prefix_range(prefix: str) -> dict:
    """Codes under a prefix as a half-open range, which a plain b-tree index answers in any
    collation (codes are digits only): "3708" → ["3708", "3709")."""
    return {"lo": prefix, "hi": str(int(prefix) + 1).zfill(len(prefix))}


def _stage_values() -> str:
    return ", ".join(f"('{a}', '{b}')" for a, b in STAGE_MAP)


def _agg(point: ObservationPoint) -> str:
    if point.aggregation == Aggregation.RATIO_OF_SUMS:
        return "SUM(CASE WHEN d IS NOT NULL THEN x END) / NULLIF(SUM(CASE WHEN x IS NOT NULL THEN d END), 0)"
    if point.aggregation == Aggregation.WEIGHTED_MEAN:
        return "SUM(x * students) / NULLIF(SUM(CASE WHEN x IS NOT NULL THEN students END), 0)"
    return "AVG(x)"


def _pass(point: ObservationPoint, expr: str) -> str:
    if point.rule == RuleKind.YES_NO:
        return f"{expr} >= 1"
    if point.rule == RuleKind.AT_MOST:
        return f"{expr} <= {float(point.threshold)}"
    return f"{expr} >= {float(point.threshold)}"


# Rows whose result did not change are left alone: a nightly run over unchanged data writes little.
UPSERT = """
ON CONFLICT (division_code, point_id, period, round_key, stage)
DO UPDATE SET value = EXCLUDED.value, reference = EXCLUDED.reference, verdict = EXCLUDED.verdict, computed_at = EXCLUDED.computed_at
WHERE evaluation_pointresult.value IS DISTINCT FROM EXCLUDED.value
   OR evaluation_pointresult.reference IS DISTINCT FROM EXCLUDED.reference
   OR evaluation_pointresult.verdict <> EXCLUDED.verdict
"""


def _school_point_sql(point: ObservationPoint) -> str:
    """One point as its own statement — the reading of the rules the combined statement below is
    built from; kept for a point computed alone (debugging, other tools)."""
    x = f"c_{point.column}" if point.source_kind == SourceKind.SCHOOL_COLUMN else "helped"
    d = f"c_{point.denominator}" if point.denominator else "NULL"
    stages = ", ".join(f"'{s}'" for s in point.stage_list)
    if point.aggregation == Aggregation.ALL_PASS:
        town_value = "SUM(CASE WHEN " + _pass(point, "x") + " THEN 1.0 ELSE 0.0 END) / COUNT(*)"
        if point.source_kind == SourceKind.HELP:
            town_value = "MIN(x)"
        verdict = (
            "CASE WHEN t.n IS NULL THEN 'insufficient' WHEN t.nx < t.n THEN 'insufficient' "
            "WHEN t.value >= 1 THEN 'attained' ELSE 'not_attained' END"
        )
        reference = "NULL"
        ref_join = ""
    else:
        town_value = _agg(point)
        if point.rule in (RuleKind.URBAN_GAP, RuleKind.QUALITY_GAP):
            quality = "AND is_urban_quality" if point.rule == RuleKind.QUALITY_GAP else ""
            ref_join = (
                f"LEFT JOIN (SELECT county, stage, {_agg(point)} AS reference FROM rows WHERE is_urban {quality} GROUP BY county, stage) r "
                "ON r.county = SUBSTR(b.code, 1, 6) AND r.stage = b.stage"
            )
            reference = "r.reference"
            if point.rule == RuleKind.URBAN_GAP:
                decide = "WHEN r.reference IS NULL THEN 'insufficient' WHEN t.value >= r.reference THEN 'attained'"
            else:
                decide = (
                    "WHEN r.reference IS NULL OR r.reference = 0 THEN 'insufficient' "
                    f"WHEN (r.reference - t.value) / r.reference < {float(point.threshold)} THEN 'attained'"
                )
        else:
            ref_join = ""
            reference = f"{float(point.threshold)}" if point.threshold is not None else "NULL"
            decide = "WHEN " + _pass(point, "t.value") + " THEN 'attained'"
        verdict = f"CASE WHEN t.value IS NULL THEN 'insufficient' {decide} ELSE 'not_attained' END"
    # WITH before INSERT: the order both SQLite and PostgreSQL accept.
    return f"""
WITH rows AS (
  SELECT code, county, stage, counted, is_urban, is_urban_quality, students, {x} AS x, {d} AS d
  FROM rollup_rows WHERE stage IN ({stages})
),
t AS (
  SELECT code, stage, {town_value} AS value, COUNT(*) AS n, COUNT(x) AS nx FROM rows
  WHERE counted = 1
  GROUP BY code, stage
),
b AS (
  SELECT d.code AS code, st.stage AS stage FROM townships_division d
  CROSS JOIN (SELECT DISTINCT stage FROM rollup_stages WHERE stage IN ({stages})) st
  WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s
)
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, reference, verdict, computed_at)
SELECT b.code, %(point)s, %(period)s, 0, b.stage, t.value, {reference}, {verdict}, %(now)s
FROM b LEFT JOIN t ON t.code = b.code AND t.stage = b.stage {ref_join}
WHERE 1 = 1
{UPSERT}
"""


def _township_point_sql(point: ObservationPoint) -> str:
    """One township point as its own statement (see `_school_point_sql`)."""
    value, reference, verdict = _township_point_exprs(point)
    stage = point.stages or "all"
    return f"""
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, reference, verdict, computed_at)
SELECT d.code, %(point)s, %(period)s, 0, '{stage}', {value}, {reference}, {verdict}, %(now)s
FROM townships_division d
LEFT JOIN evaluation_townshipyear cur ON cur.township_id = d.code AND cur.period = %(period)s
LEFT JOIN evaluation_townshipyear prev ON prev.township_id = d.code AND prev.period = %(period)s - 1
WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s
{UPSERT}
"""


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
        verdict = f"CASE WHEN {rate('cur')} IS NULL OR {reference} IS NULL THEN 'insufficient' WHEN {rate('cur')} > {reference} THEN 'attained' ELSE 'not_attained' END"
    else:
        reference = f"{float(point.threshold)}" if point.threshold is not None else "NULL"
        too_few = ""
        if point.rule == RuleKind.THRESHOLD and point.denominator:
            too_few = f"WHEN {_numeric(TownshipYear, point.denominator, 'cur')} < {int(settings.SURVEY_MIN_VALID)} THEN 'insufficient' "
        verdict = f"CASE WHEN {rate('cur')} IS NULL THEN 'insufficient' {too_few}WHEN {_pass(point, rate('cur'))} THEN 'attained' ELSE 'not_attained' END"
    return rate("cur"), reference, verdict


# --- All points of a framework in one statement ------------------------------------------------
# The base rows are grouped twice — by (township, stage) over the schools that count, and by
# (county, stage) over the urban schools for the references — each grouping computing every
# point's aggregate as its own column. One INSERT then unfolds the columns into a row per
# township, point and stage. Two passes over the base rows whatever the number of points, and
# the result table written once.


def _school_x(point: ObservationPoint) -> tuple[str, str]:
    x = f"c_{point.column}" if point.source_kind == SourceKind.SCHOOL_COLUMN else "helped"
    d = f"c_{point.denominator}" if point.denominator else "NULL"
    return x, d


def _agg_of(point: ObservationPoint, x: str, d: str) -> str:
    """`_agg` over given expressions: the same aggregate, read off other columns."""
    if point.aggregation == Aggregation.RATIO_OF_SUMS:
        return f"SUM(CASE WHEN {d} IS NOT NULL THEN {x} END) / NULLIF(SUM(CASE WHEN {x} IS NOT NULL THEN {d} END), 0)"
    if point.aggregation == Aggregation.WEIGHTED_MEAN:
        return f"SUM({x} * students) / NULLIF(SUM(CASE WHEN {x} IS NOT NULL THEN students END), 0)"
    return f"AVG({x})"


def _town_columns(point: ObservationPoint, i: int) -> list[str]:
    x, d = _school_x(point)
    if point.aggregation == Aggregation.ALL_PASS:
        value = f"SUM(CASE WHEN {_pass(point, x)} THEN 1.0 ELSE 0.0 END) / COUNT(*)"
        if point.source_kind == SourceKind.HELP:
            value = f"MIN({x})"
        return [f"{value} AS v{i}", f"COUNT({x}) AS nx{i}"]
    return [f"{_agg_of(point, x, d)} AS v{i}"]


def _ref_column(point: ObservationPoint, i: int) -> str | None:
    if point.aggregation == Aggregation.ALL_PASS or point.rule not in (RuleKind.URBAN_GAP, RuleKind.QUALITY_GAP):
        return None
    x, d = _school_x(point)
    if point.rule == RuleKind.QUALITY_GAP:
        # Only the quality schools: the others' values are blanked, which every aggregate skips.
        x = f"(CASE WHEN is_urban_quality THEN {x} END)"
        d = f"(CASE WHEN is_urban_quality THEN {d} END)" if d != "NULL" else d
    return f"{_agg_of(point, x, d)} AS r{i}"


def _school_arm(point: ObservationPoint, i: int) -> str:
    """A point's rows from the grouped tables: value, reference and verdict as `_school_point_sql`."""
    stages = ", ".join(f"'{s}'" for s in point.stage_list)
    value = f"g.v{i}"
    if point.aggregation == Aggregation.ALL_PASS:
        reference = "NULL"
        verdict = (
            f"CASE WHEN g.n IS NULL THEN 'insufficient' WHEN g.nx{i} < g.n THEN 'insufficient' "
            f"WHEN {value} >= 1 THEN 'attained' ELSE 'not_attained' END"
        )
    else:
        if point.rule in (RuleKind.URBAN_GAP, RuleKind.QUALITY_GAP):
            reference = f"g.r{i}"
            if point.rule == RuleKind.URBAN_GAP:
                decide = f"WHEN {reference} IS NULL THEN 'insufficient' WHEN {value} >= {reference} THEN 'attained'"
            else:
                decide = (
                    f"WHEN {reference} IS NULL OR {reference} = 0 THEN 'insufficient' "
                    f"WHEN ({reference} - {value}) / {reference} < {float(point.threshold)} THEN 'attained'"
                )
        else:
            reference = f"{float(point.threshold)}" if point.threshold is not None else "NULL"
            decide = "WHEN " + _pass(point, value) + " THEN 'attained'"
        verdict = f"CASE WHEN {value} IS NULL THEN 'insufficient' {decide} ELSE 'not_attained' END"
    return (
        f"SELECT g.code AS code, {int(point.pk)} AS point_id, g.stage AS stage, {value} AS value, {reference} AS reference, {verdict} AS verdict\n"
        f"FROM rollup_grid g WHERE g.stage IN ({stages})"
    )


def _township_arm(point: ObservationPoint) -> str:
    value, reference, verdict = _township_point_exprs(point)
    stage = point.stages or "all"
    return (
        f"SELECT d.code AS code, {int(point.pk)} AS point_id, '{stage}' AS stage, {value} AS value, {reference} AS reference, {verdict} AS verdict\n"
        "FROM rollup_towns d\n"
        "LEFT JOIN evaluation_townshipyear cur ON cur.township_id = d.code AND cur.period = %(period)s\n"
        "LEFT JOIN evaluation_townshipyear prev ON prev.township_id = d.code AND prev.period = %(period)s - 1"
    )


# The previous year's value joins in as the row is written: no second pass rewriting every row.
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


def _points_sql(points: list[ObservationPoint]) -> tuple[list[str], str | None]:
    """The statements computing every data point of `points` — the groupings — and the write,
    without its conflict clause."""
    school = [p for p in points if p.source_kind in (SourceKind.SCHOOL_COLUMN, SourceKind.HELP)]
    township = [p for p in points if p.source_kind == SourceKind.TOWNSHIP_COLUMN]
    town_cols = [c for i, p in enumerate(school) for c in _town_columns(p, i)]
    ref_cols = [c for i, p in enumerate(school) if (c := _ref_column(p, i))]
    arms = [_school_arm(p, i) for i, p in enumerate(school)] + [_township_arm(p) for p in township]
    statements = [
        "CREATE TEMP TABLE rollup_towns AS SELECT d.code AS code, SUBSTR(d.code, 1, 6) AS county FROM townships_division d "
        "WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s",
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
    write = f"""
WITH x AS (
{union}
)
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, reference, verdict, previous_value, computed_at)
SELECT x.code, x.point_id, %(period)s, 0, x.stage, x.value, x.reference, x.verdict, prev.value, %(now)s
FROM x LEFT JOIN evaluation_pointresult prev
  ON prev.division_code = x.code AND prev.point_id = x.point_id AND prev.period = %(period)s - 1 AND prev.round_key = 0 AND prev.stage = x.stage
WHERE 1 = 1
"""
    return statements, write


def _base_rows_sql(points: list[ObservationPoint] | None = None) -> str:
    """One pass over SchoolYear ⋈ School for the area: every school-year once per stage it counts
    for, every fact as a number, whether it counts for its township (seat school, or any school
    in a 全域提升 township) and whether it is helped. Each point's statement reads this."""
    facts = [f.name for f in SchoolYear._meta.concrete_fields if f.name not in ("id", "school", "period", "township", "updated_at", "updated_by_import")]
    if points is not None:
        # Only the facts the points read: a narrower table to write and to group.
        used = {c for p in points if p.source_kind == SourceKind.SCHOOL_COLUMN for c in (p.column, p.denominator) if c}
        facts = [f for f in facts if f in used]
    columns = "".join(f", {_numeric(SchoolYear, f, 'sy')} AS c_{f}" for f in facts)
    return f"""
CREATE TEMP TABLE rollup_rows AS
WITH sm(school_stage, stage) AS (VALUES {_stage_values()}),
whole AS (
  SELECT pt.township_id AS code FROM townships_pilottownship pt JOIN townships_pilotbatch pb ON pb.id = pt.batch_id
  WHERE pt.phase = 'whole' AND NOT EXISTS (
    SELECT 1 FROM townships_pilottownship p2 JOIN townships_pilotbatch b2 ON b2.id = p2.batch_id
    WHERE p2.township_id = pt.township_id AND b2.year > pb.year)
),
helped AS (
  SELECT DISTINCT h.helped_id AS school_id FROM evaluation_helprelation h WHERE h.period = %(period)s
)
SELECT sy.township_id AS code, SUBSTR(sy.township_id, 1, 6) AS county, sm.stage AS stage,
       CASE WHEN s.is_seat OR sy.township_id IN (SELECT code FROM whole) THEN 1 ELSE 0 END AS counted,
       s.is_urban AS is_urban, s.is_urban_quality AS is_urban_quality, sy.students * 1.0 AS students,
       (CASE WHEN hp.school_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS helped
       {columns}
FROM evaluation_schoolyear sy
JOIN townships_school s ON s.id = sy.school_id
JOIN sm ON sm.school_stage = s.stage
LEFT JOIN helped hp ON hp.school_id = s.id
WHERE sy.period = %(period)s AND sy.township_id >= %(lo)s AND sy.township_id < %(hi)s
"""


TEMP_TABLES = ("rollup_rows", "rollup_stages", "rollup_towns", "rollup_town", "rollup_ref", "rollup_grid")


def _drop_temp(cursor) -> None:
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _create_base(cursor, params, points=None) -> None:
    _drop_temp(cursor)
    cursor.execute(_base_rows_sql(points), params)
    cursor.execute(f"CREATE TEMP TABLE rollup_stages AS WITH sm(school_stage, stage) AS (VALUES {_stage_values()}) SELECT DISTINCT stage FROM sm")


def point_sql(point: ObservationPoint) -> str | None:
    if point.source_kind in (SourceKind.SCHOOL_COLUMN, SourceKind.HELP):
        return _school_point_sql(point)
    if point.source_kind == SourceKind.TOWNSHIP_COLUMN:
        return _township_point_sql(point)
    return None  # judgments come from submitted forms


def _tune(cursor) -> None:
    """Sorts and hashes of a province's rows fit in memory rather than spilling to disk (the
    default 4 MB did); for this transaction only."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL work_mem = '64MB'")


@transaction.atomic
def rollup_points(*, framework, period: int, prefix: str) -> int:
    """Recompute every data point of `framework` for the 乡镇 under `prefix` (a county, city or
    province code), with last year's value beside each. Returns the number of statements run —
    the same whatever the number of points and townships."""
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"period": period, **prefix_range(prefix), "now": now}
    points = [p for p in ObservationPoint.objects.filter(target__framework=framework).order_by("pk") if p.source_kind != SourceKind.JUDGMENT]
    statements, write = _points_sql(points)
    with connection.cursor() as cursor:
        _tune(cursor)
        _create_base(cursor, params, points)
        for sql in statements:
            cursor.execute(sql, params)
        if write:
            _write_points(cursor, write, params)
            statements.append(write)
        _drop_temp(cursor)
    return len(statements)


ANY_POINT_RESULT_SQL = (
    "SELECT 1 FROM evaluation_pointresult WHERE period = %(period)s AND round_key = 0 AND division_code >= %(lo)s AND division_code < %(hi)s LIMIT 1"
)


def _write_points(cursor, write: str, params: dict) -> None:
    cursor.execute(ANY_POINT_RESULT_SQL, params)
    if cursor.fetchone() is None:
        # A first computation: a plain INSERT skips the conflict check on every row (about a
        # quarter of the write). Should another run have written the same rows since, the
        # savepoint falls back to the upsert.
        try:
            with transaction.atomic():
                cursor.execute(write, params)
            return
        except IntegrityError:
            pass
    cursor.execute(write + POINTS_UPSERT, params)


def current_framework():
    from evaluation.models import Framework

    return Framework.objects.order_by("-created_at", "-id").first()


def county_codes(prefix: str) -> list[str]:
    from townships.models import Division, Level

    return list(Division.objects.filter(level=Level.COUNTY, code__startswith=prefix).order_by("code").values_list("code", flat=True))


# --- Judgments, year on year, targets, townships and areas -----------------------------------

JUDGMENTS_SQL = """
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, reference, verdict, computed_at)
SELECT rt.township_id, p.id, r.period, r.id, 'all', NULL, NULL,
       CASE WHEN f.status = 'submitted' AND j.level IN ('attained', 'basic', 'not_attained') THEN j.level ELSE 'insufficient' END,
       %(now)s
FROM evaluation_round r
JOIN evaluation_roundtownship rt ON rt.round_id = r.id
JOIN evaluation_target t ON t.framework_id = r.framework_id
JOIN evaluation_observationpoint p ON p.target_id = t.id AND p.source_kind = 'judgment'
LEFT JOIN evaluation_inspectionform f ON f.round_id = r.id AND f.township_id = rt.township_id
LEFT JOIN evaluation_judgment j ON j.form_id = f.id AND j.point_id = p.id
WHERE r.period = %(period)s AND rt.township_id >= %(lo)s AND rt.township_id < %(hi)s
""" + UPSERT

# Each value beside last year's (增值性评价): a township that improves shows before it passes. The
# roll-up joins last year's value as it writes; this is for results written by other means (the
# dashboard bench's generated points).
PREVIOUS_SQL = """
UPDATE evaluation_pointresult AS cur SET previous_value = prev.value
FROM evaluation_pointresult AS prev
WHERE prev.division_code = cur.division_code AND prev.point_id = cur.point_id AND prev.stage = cur.stage
  AND prev.round_key = 0 AND prev.period = %(period)s - 1 AND prev.division_code >= %(lo)s AND prev.division_code < %(hi)s
  AND cur.period = %(period)s AND cur.round_key = 0 AND cur.division_code >= %(lo)s AND cur.division_code < %(hi)s
  AND cur.previous_value IS DISTINCT FROM prev.value
"""

# A target: not attained if any point is (a failed veto point among them), else insufficient if
# any point lacks data, else 基本达成 if any point is only basically attained, else attained.
# Data points (round 0) count in every round of their period; judgments only in their round.
TARGETS_SQL = """
INSERT INTO evaluation_targetresult (division_code, target_number, period, round_key, verdict, score, vetoed, computed_at)
SELECT pr.division_code, t.number, %(period)s, %(round)s,
  CASE WHEN SUM(CASE WHEN pr.verdict = 'not_attained' THEN 1 ELSE 0 END) > 0 THEN 'not_attained'
       WHEN SUM(CASE WHEN pr.verdict = 'insufficient' THEN 1 ELSE 0 END) > 0 THEN 'insufficient'
       WHEN SUM(CASE WHEN pr.verdict = 'basic' THEN 1 ELSE 0 END) > 0 THEN 'basic'
       ELSE 'attained' END,
  ROUND(100.0 * SUM(p.weight * CASE pr.verdict WHEN 'attained' THEN 1.0 WHEN 'basic' THEN 0.5 WHEN 'not_attained' THEN 0.0 END)
        / NULLIF(SUM(CASE WHEN pr.verdict <> 'insufficient' THEN p.weight * 1.0 END), 0), 1),
  MAX(CASE WHEN p.veto AND pr.verdict = 'not_attained' THEN 1 ELSE 0 END) = 1,
  %(now)s
FROM evaluation_pointresult pr
JOIN evaluation_observationpoint p ON p.id = pr.point_id
JOIN evaluation_target t ON t.id = p.target_id
WHERE pr.period = %(period)s AND pr.round_key IN (0, %(round)s) AND pr.division_code >= %(lo)s AND pr.division_code < %(hi)s AND t.framework_id = %(framework)s
GROUP BY pr.division_code, t.number
ON CONFLICT (division_code, target_number, period, round_key)
DO UPDATE SET verdict = EXCLUDED.verdict, score = EXCLUDED.score, vetoed = EXCLUDED.vetoed, computed_at = EXCLUDED.computed_at
WHERE evaluation_targetresult.verdict <> EXCLUDED.verdict OR evaluation_targetresult.score IS DISTINCT FROM EXCLUDED.score
   OR evaluation_targetresult.vetoed <> EXCLUDED.vetoed
"""

TOWNSHIPS_SQL = """
INSERT INTO evaluation_townshipresult (division_code, period, round_key, targets_attained, all_seven, score, computed_at)
SELECT division_code, period, round_key,
       SUM(CASE WHEN verdict = 'attained' THEN 1 ELSE 0 END),
       SUM(CASE WHEN verdict = 'attained' THEN 1 ELSE 0 END) = 7 AND MAX(CASE WHEN vetoed THEN 1 ELSE 0 END) = 0,
       ROUND(AVG(score), 1), %(now)s
FROM evaluation_targetresult
WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
GROUP BY division_code, period, round_key
ON CONFLICT (division_code, period, round_key)
DO UPDATE SET targets_attained = EXCLUDED.targets_attained, all_seven = EXCLUDED.all_seven, score = EXCLUDED.score, computed_at = EXCLUDED.computed_at
WHERE evaluation_townshipresult.targets_attained <> EXCLUDED.targets_attained OR evaluation_townshipresult.all_seven <> EXCLUDED.all_seven
   OR evaluation_townshipresult.score IS DISTINCT FROM EXCLUDED.score
"""

AREA_UPSERT = """
ON CONFLICT (division_code, period, round_key, population, stage, target_number)
DO UPDATE SET townships = EXCLUDED.townships, attained = EXCLUDED.attained, computed_at = EXCLUDED.computed_at
WHERE evaluation_arearesult.townships <> EXCLUDED.townships OR evaluation_arearesult.attained <> EXCLUDED.attained
"""

# Areas: each level (county 6, city 4, province 2 digits) × population × target (0 = all seven).
AREAS_SQL = """
WITH pop(code, population) AS (
  SELECT d.code, 'all' FROM townships_division d WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s
  UNION ALL SELECT DISTINCT pt.township_id, 'pilots' FROM townships_pilottownship pt WHERE pt.township_id >= %(lo)s AND pt.township_id < %(hi)s
  UNION ALL SELECT pt.township_id, 'batch:' || pt.batch_id FROM townships_pilottownship pt WHERE pt.township_id >= %(lo)s AND pt.township_id < %(hi)s
),
verdicts(code, target_number, attained) AS (
  SELECT division_code, target_number, CASE WHEN verdict = 'attained' THEN 1 ELSE 0 END FROM evaluation_targetresult
  WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
  UNION ALL
  SELECT division_code, 0, CASE WHEN all_seven THEN 1 ELSE 0 END FROM evaluation_townshipresult
  WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
),
targets(n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7))
INSERT INTO evaluation_arearesult (division_code, period, round_key, population, stage, target_number, townships, attained, computed_at)
SELECT SUBSTR(pop.code, 1, %(width)s), %(period)s, %(round)s, pop.population, 'all', targets.n, COUNT(*), COALESCE(SUM(v.attained), 0), %(now)s
FROM pop CROSS JOIN targets
LEFT JOIN verdicts v ON v.code = pop.code AND v.target_number = targets.n
WHERE 1 = 1
GROUP BY SUBSTR(pop.code, 1, %(width)s), pop.population, targets.n
""" + AREA_UPSERT

# By stage: a 乡镇 counts for a stage when it has results at that stage (it has such schools); it
# attains a target at that stage when every point of the target at that stage or for the whole
# township ('all': township facts, judgments) is attained, and all seven when its seven targets are.
# First each township's verdicts are folded per (stage or 'all', target) — one pass over the point
# results of the widest area — then per stage it has, with the target 0 row for all seven (always
# there, so it also marks the stages a township has).
TOWN_TARGETS_SQL = """
CREATE TEMP TABLE rollup_tt AS
SELECT code, stage, target_number, MIN(attained) AS attained, MIN(round_key) AS base FROM (
  SELECT division_code AS code, stage, {target} AS target_number, round_key,
         CASE WHEN verdict = 'attained' THEN 1 ELSE 0 END AS attained
  FROM evaluation_pointresult
  WHERE period = %(period)s AND round_key IN (0, %(round)s) AND division_code >= %(lo)s AND division_code < %(hi)s
) q
GROUP BY code, stage, target_number
"""

TOWN_STAGES_SQL = """
CREATE TEMP TABLE rollup_ts AS
WITH present AS (SELECT DISTINCT code, stage FROM rollup_tt WHERE stage <> 'all' AND base = 0),
by_target AS (
  SELECT p.code AS code, p.stage AS stage, tt.target_number AS target_number, MIN(tt.attained) AS attained
  FROM present p JOIN rollup_tt tt ON tt.code = p.code AND tt.stage IN (p.stage, 'all')
  WHERE tt.target_number IS NOT NULL
  GROUP BY p.code, p.stage, tt.target_number
)
SELECT code, stage, target_number, attained FROM by_target
UNION ALL
SELECT p.code, p.stage, 0, CASE WHEN SUM(b.attained) = 7 THEN 1 ELSE 0 END
FROM present p LEFT JOIN by_target b ON b.code = p.code AND b.stage = p.stage
GROUP BY p.code, p.stage
"""

# Every level at once: `levels` lists (width, lo, hi) — each county and city inside the prefix and
# the areas above it.
AREAS_STAGE_SQL = """
WITH levels(width, lo, hi) AS (VALUES {levels}),
pop(code, population) AS (
  SELECT d.code, 'all' FROM townships_division d WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s
  UNION ALL SELECT DISTINCT pt.township_id, 'pilots' FROM townships_pilottownship pt WHERE pt.township_id >= %(lo)s AND pt.township_id < %(hi)s
  UNION ALL SELECT pt.township_id, 'batch:' || pt.batch_id FROM townships_pilottownship pt WHERE pt.township_id >= %(lo)s AND pt.township_id < %(hi)s
),
targets(n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7))
INSERT INTO evaluation_arearesult (division_code, period, round_key, population, stage, target_number, townships, attained, computed_at)
SELECT SUBSTR(pop.code, 1, lv.width), %(period)s, %(round)s, pop.population, present.stage, targets.n, COUNT(*), COALESCE(SUM(v.attained), 0), %(now)s
FROM levels lv
JOIN pop ON pop.code >= lv.lo AND pop.code < lv.hi
JOIN rollup_ts present ON present.code = pop.code AND present.target_number = 0
CROSS JOIN targets
LEFT JOIN rollup_ts v ON v.code = pop.code AND v.stage = present.stage AND v.target_number = targets.n
WHERE 1 = 1
GROUP BY SUBSTR(pop.code, 1, lv.width), pop.population, present.stage, targets.n
""" + AREA_UPSERT


def _point_map(framework) -> dict:
    """The framework's points as CASE expressions over `point_id` (target, weight, veto): the
    result tables are read without joining the framework, so no plan can go wrong on a join whose
    statistics lag a bulk write."""
    rows = list(ObservationPoint.objects.filter(target__framework=framework).order_by("pk").values_list("pk", "target__number", "weight", "veto"))
    if not rows:
        return {"target": "NULL", "weight": "NULL", "veto": "0", "ids": "NULL"}

    def case(values):
        return "CASE point_id " + " ".join(f"WHEN {int(pk)} THEN {v}" for pk, v in values) + " END"

    return {
        "target": case((pk, int(n)) for pk, n, _w, _v in rows),
        "weight": case((pk, "NULL" if w is None else f"{float(w)}") for pk, _n, w, _v in rows),
        "veto": case((pk, 1 if v else 0) for pk, _n, _w, v in rows),
        "ids": ", ".join(str(int(pk)) for pk, *_ in rows),
    }


# TARGETS_SQL with the framework read from `_point_map`.
TARGETS_MAPPED_SQL = """
INSERT INTO evaluation_targetresult (division_code, target_number, period, round_key, verdict, score, vetoed, computed_at)
SELECT pr.division_code, pr.target_number, %(period)s, %(round)s,
  CASE WHEN SUM(CASE WHEN pr.verdict = 'not_attained' THEN 1 ELSE 0 END) > 0 THEN 'not_attained'
       WHEN SUM(CASE WHEN pr.verdict = 'insufficient' THEN 1 ELSE 0 END) > 0 THEN 'insufficient'
       WHEN SUM(CASE WHEN pr.verdict = 'basic' THEN 1 ELSE 0 END) > 0 THEN 'basic'
       ELSE 'attained' END,
  ROUND(100.0 * SUM(pr.weight * CASE pr.verdict WHEN 'attained' THEN 1.0 WHEN 'basic' THEN 0.5 WHEN 'not_attained' THEN 0.0 END)
        / NULLIF(SUM(CASE WHEN pr.verdict <> 'insufficient' THEN pr.weight * 1.0 END), 0), 1),
  MAX(CASE WHEN pr.veto = 1 AND pr.verdict = 'not_attained' THEN 1 ELSE 0 END) = 1,
  %(now)s
FROM (
  SELECT division_code, verdict, {target} AS target_number, {weight} AS weight, {veto} AS veto
  FROM evaluation_pointresult
  WHERE period = %(period)s AND round_key IN (0, %(round)s) AND division_code >= %(lo)s AND division_code < %(hi)s AND point_id IN ({ids})
) pr
WHERE 1 = 1
GROUP BY pr.division_code, pr.target_number
ON CONFLICT (division_code, target_number, period, round_key)
DO UPDATE SET verdict = EXCLUDED.verdict, score = EXCLUDED.score, vetoed = EXCLUDED.vetoed, computed_at = EXCLUDED.computed_at
WHERE evaluation_targetresult.verdict <> EXCLUDED.verdict OR evaluation_targetresult.score IS DISTINCT FROM EXCLUDED.score
   OR evaluation_targetresult.vetoed <> EXCLUDED.vetoed
"""


def _rounds(period: int):
    from evaluation.models import Round

    return list(Round.objects.filter(period=period).values_list("id", flat=True))


@transaction.atomic
def rollup_county(*, framework, period: int, county: str) -> None:
    """Everything of one county (or any prefix) for one period: data points with last year's
    values, judgments, targets and townships for no round and for each round of the period.
    Idempotent."""
    rollup_points(framework=framework, period=period, prefix=county)
    _judgments_and_verdicts(framework=framework, period=period, county=county, round_keys=[0, *_rounds(period)])


@transaction.atomic
def rollup_judgments(*, framework, period: int, county: str) -> None:
    """After an inspectors' form changed (submitted, returned): its judgments and the verdicts of
    each round of the period, without recomputing the data points, which the form does not touch
    (round 0 has no judgments). Equals `rollup_county` on the same data; a fraction of its cost."""
    _judgments_and_verdicts(framework=framework, period=period, county=county, round_keys=_rounds(period))


def _judgments_and_verdicts(*, framework, period: int, county: str, round_keys: list[int]) -> None:
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"period": period, **prefix_range(county), "now": now, "framework": framework.pk}
    targets_sql = TARGETS_MAPPED_SQL.format(**_point_map(framework))
    with connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute(JUDGMENTS_SQL, params)
        for round_key in round_keys:
            cursor.execute(targets_sql, {**params, "round": round_key})
            cursor.execute(TOWNSHIPS_SQL, {**params, "round": round_key})
    bump_results_version()  # result pages cached under the old token are stale now


def rollup_all(*, period: int, prefix: str = "37", analyze: bool = False) -> int:
    """A full synchronous recomputation (the management command and the bench): the whole area in
    one pass — a handful of statements over every 乡镇 under the prefix — then the areas at each
    level. `analyze` refreshes the planner's statistics first (after bulk loads)."""
    from townships.models import Division, Level

    framework = current_framework()
    if analyze:
        refresh_statistics()
    rollup_county(framework=framework, period=period, county=prefix)
    rollup_levels(period=period, prefix=prefix)
    return Division.objects.filter(level=Level.COUNTY, code__startswith=prefix).count()


def _levels(prefix: str) -> list[tuple[int, str]]:
    """(width, area) of each level a prefix's results change: the counties and cities inside it,
    and the areas above it (its city, its province)."""
    return [(width, prefix[:width] if width < len(prefix) else prefix) for width in (6, 4, 2)]


@transaction.atomic
def rollup_levels(*, period: int, prefix: str) -> None:
    """Area counts at every level for the 乡镇 under `prefix`: each county and city inside it, and
    the areas above it (its city, the province), which its results change — a few statements per
    round whatever the number of levels."""
    from django.utils import timezone

    framework = current_framework()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    levels = _levels(prefix)
    widest = min((area for _w, area in levels), key=len)
    level_params = {}
    for i, (width, area) in enumerate(levels):
        rng = prefix_range(area)
        level_params.update({f"w{i}": width, f"lo{i}": rng["lo"], f"hi{i}": rng["hi"]})
    values = ", ".join(f"(%(w{i})s, %(lo{i})s, %(hi{i})s)" for i in range(len(levels)))
    if connection.vendor == "postgresql":
        # Typed once, or the VALUES list's parameters stay of unknown type in the join.
        values = ", ".join(f"(CAST(%(w{i})s AS integer), CAST(%(lo{i})s AS text), CAST(%(hi{i})s AS text))" for i in range(len(levels)))
    stage_sql = AREAS_STAGE_SQL.format(levels=values)
    town_targets_sql = TOWN_TARGETS_SQL.format(target=_point_map(framework)["target"])
    with connection.cursor() as cursor:
        _tune(cursor)
        for round_key in [0, *_rounds(period)]:
            base = {"period": period, "now": now, "round": round_key, "framework": framework.pk}
            for width, area in levels:
                cursor.execute(AREAS_SQL, {**base, **prefix_range(area), "width": width})
            cursor.execute("DROP TABLE IF EXISTS rollup_tt")
            cursor.execute("DROP TABLE IF EXISTS rollup_ts")
            cursor.execute(town_targets_sql, {**base, **prefix_range(widest)})
            cursor.execute(TOWN_STAGES_SQL)
            if connection.vendor == "postgresql":
                # Joined with itself: estimates from the fresh table's size alone nest the loops.
                cursor.execute("ANALYZE rollup_ts")
            cursor.execute(stage_sql, {**base, **prefix_range(widest), **level_params})
            cursor.execute("DROP TABLE rollup_tt")
            cursor.execute("DROP TABLE rollup_ts")
    bump_results_version()


def scorecard(*, period: int, round_key: int = 0, province: str = "37") -> dict:
    """The programme goal: at least half (半数以上) of the province's 乡镇 attain all seven targets
    by the end of the 14th five-year plan (2025)."""
    import math

    from evaluation.models import AreaResult

    row = AreaResult.objects.filter(division_code=province, period=period, round_key=round_key, population="all", stage="all", target_number=0).first()
    total = row.townships if row else 0
    attained = row.attained if row else 0
    goal = math.ceil(total * settings.PROGRAMME_GOAL_SHARE)
    return {"townships": total, "attained": attained, "share": attained / total if total else 0, "goal": goal, "distance": max(goal - attained, 0)}


ANALYZED_TABLES = (
    "evaluation_schoolyear", "evaluation_townshipyear", "evaluation_helprelation", "townships_school",
    "townships_division", "townships_pilottownship", "evaluation_pointresult", "evaluation_targetresult",
)


def refresh_statistics() -> None:
    """After bulk loads PostgreSQL's planner still believes the tables are empty and picks nested
    loops that cost minutes; fresh statistics make the roll-up's joins hash joins again."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(ANALYZED_TABLES))
