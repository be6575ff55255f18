"""Area counts: per county, city and province, how many 乡镇 there are and how many attain each
target (0 = all seven) — for every population (all, pilots, each batch), for the whole township
and by stage, for no round and each round; and the programme's scorecard read off them."""
from __future__ import annotations

import math

from django.conf import settings
from django.db import connection, transaction

from core.results_version import results_changed
from evaluation.vocabulary import EvaluationStage

from . import words as w
from .scope import frameworks_by_round, insert_or_upsert, planner_without, prefix_range, province_codes, tune
from .verdicts import point_map

AREA_UPSERT = """
ON CONFLICT (division_code, period, round_key, population, stage, target_number)
DO UPDATE SET townships = EXCLUDED.townships, attained = EXCLUDED.attained, computed_at = EXCLUDED.computed_at
WHERE evaluation_arearesult.townships <> EXCLUDED.townships OR evaluation_arearesult.attained <> EXCLUDED.attained
"""

# The 乡镇 of each population: every one ('all'), the pilots, and each pilot batch.
POPULATIONS = """pop(code, population) AS (
  SELECT d.code, 'all' FROM townships_division d WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND d.code >= %(lo)s AND d.code < %(hi)s
  UNION ALL SELECT DISTINCT pt.township_id, 'pilots' FROM townships_pilottownship pt JOIN townships_pilotbatch pb ON pb.id = pt.batch_id
    WHERE pt.township_id >= %(lo)s AND pt.township_id < %(hi)s AND """ + w.pilot_in_year("pt", "pb") + """
  UNION ALL SELECT pt.township_id, 'batch:' || pt.batch_id FROM townships_pilottownship pt JOIN townships_pilotbatch pb ON pb.id = pt.batch_id
    WHERE pt.township_id >= %(lo)s AND pt.township_id < %(hi)s AND """ + w.pilot_in_year("pt", "pb") + """
)"""

# The levels counted, as (width, lo, hi): each county and city inside the prefix and the areas
# above it. Counts are sums, so each county's are counted once over its 乡镇 and the cities' and
# provinces' are the sums of their counties' — not the 乡镇 counted again per level (at national
# scale that was three passes over two million rows, sorted on disk: 4 s of a 21 s roll-up).
LEVELS = "levels(width, lo, hi) AS (VALUES {levels})"
LEVEL_SUMS = """by_level AS (
  SELECT SUBSTR(c.county, 1, lv.width) AS code, c.population AS population, c.stage AS stage, c.n AS n,
         SUM(c.townships) AS townships, SUM(c.attained) AS attained
  FROM levels lv JOIN per_county c ON c.county >= lv.lo AND c.county < lv.hi
  GROUP BY SUBSTR(c.county, 1, lv.width), c.population, c.stage, c.n
)"""

# Areas of every level for the whole township: × population × target (0 = all seven).
AREAS_SQL = f"""
WITH {LEVELS},
{POPULATIONS},
verdicts(code, target_number, attained) AS (
  SELECT division_code, target_number, CASE WHEN verdict = {w.ATTAINED} THEN 1 ELSE 0 END FROM evaluation_targetresult
  WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
  UNION ALL
  SELECT division_code, 0, CASE WHEN all_seven THEN 1 ELSE 0 END FROM evaluation_townshipresult
  WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
),
targets(n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)),
per_county AS (
  SELECT SUBSTR(pop.code, 1, 6) AS county, pop.population AS population, {w.WHOLE_TOWNSHIP} AS stage, targets.n AS n,
         COUNT(*) AS townships, COALESCE(SUM(v.attained), 0) AS attained
  FROM pop CROSS JOIN targets
  LEFT JOIN verdicts v ON v.code = pop.code AND v.target_number = targets.n
  GROUP BY SUBSTR(pop.code, 1, 6), pop.population, targets.n
),
{LEVEL_SUMS}
INSERT INTO rollup_area_new (division_code, population, stage, target_number, townships, attained)
SELECT code, population, stage, n, townships, attained FROM by_level
"""

# By stage: a 乡镇 counts for a stage when it has results at that stage (it has such schools); it
# attains a target at that stage when every point of the target at that stage or for the whole
# township ('all': township facts, judgments) is attained, and all seven when its seven targets are.
# First each township's verdicts are folded per (stage or 'all', target) — one pass over the point
# results of the widest area — then per stage it has, with the target 0 row for all seven (always
# there, so it also marks the stages a township has). {points} is filled from `point_map`
# of the round's framework version.
TOWN_TARGETS_SQL = f"""
CREATE TEMP TABLE rollup_tt AS
WITH m(point_id, target_number, weight, veto) AS (VALUES {{points}})
SELECT r.division_code AS code, r.stage AS stage, m.target_number AS target_number,
       MIN(CASE WHEN r.verdict = {w.ATTAINED} THEN 1 ELSE 0 END) AS attained, MIN(r.round_key) AS base
FROM evaluation_pointresult r JOIN m ON m.point_id = r.point_id
WHERE r.period = %(period)s AND r.round_key IN (0, %(round)s) AND r.division_code >= %(lo)s AND r.division_code < %(hi)s
GROUP BY r.division_code, r.stage, m.target_number
"""

TOWN_STAGES_SQL = f"""
CREATE TEMP TABLE rollup_ts AS
WITH present AS (SELECT DISTINCT code, stage FROM rollup_tt WHERE stage <> {w.WHOLE_TOWNSHIP} AND base = 0),
by_target AS (
  -- A stage's own verdicts and the whole township's, each an equality join (hashed): one join on
  -- "the stage or the whole township" could only be merged and filtered (1.8 s at national scale).
  -- Every stage present has a row here (its own verdicts), so all seven is read off these rows;
  -- every point has a target (rollup_tt joins the framework's points).
  SELECT code, stage, target_number, MIN(attained) AS attained FROM (
    SELECT tt.code AS code, tt.stage AS stage, tt.target_number AS target_number, tt.attained AS attained
    FROM present p JOIN rollup_tt tt ON tt.code = p.code AND tt.stage = p.stage
    UNION ALL
    SELECT p.code, p.stage, tt.target_number, tt.attained
    FROM present p JOIN rollup_tt tt ON tt.code = p.code AND tt.stage = {w.WHOLE_TOWNSHIP}
  ) q
  GROUP BY code, stage, target_number
)
SELECT code, stage, target_number, attained FROM by_target
UNION ALL
SELECT code, stage, 0, CASE WHEN SUM(attained) = 7 THEN 1 ELSE 0 END
FROM by_target
GROUP BY code, stage
"""

# Every level at once, by stage: each county's 乡镇 per (population, stage present, target) —
# how many have the stage (the target 0 row, always there) and how many attain — then summed up
# the levels, every target of a stage present given its row (0 attained when none do).
AREAS_STAGE_SQL = f"""
WITH {LEVELS},
{POPULATIONS},
targets(n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)),
per_county AS (
  SELECT SUBSTR(pop.code, 1, 6) AS county, pop.population AS population, v.stage AS stage, v.target_number AS n,
         COUNT(*) AS townships, SUM(v.attained) AS attained
  FROM pop JOIN rollup_ts v ON v.code = pop.code
  GROUP BY SUBSTR(pop.code, 1, 6), pop.population, v.stage, v.target_number
),
{LEVEL_SUMS}
INSERT INTO rollup_area_new (division_code, population, stage, target_number, townships, attained)
SELECT p.code, p.population, p.stage, targets.n, p.townships, COALESCE(a.attained, 0)
FROM by_level p CROSS JOIN targets
LEFT JOIN by_level a ON a.code = p.code AND a.population = p.population AND a.stage = p.stage AND a.n = targets.n
WHERE p.n = 0
"""

# The counts are made in a temporary table first: the rows of this round in the levels counted
# that it lacks are stale (a population or a stage an area no longer has: a withdrawn pilot, a
# school of another stage now) and go; the others are upserted, rewriting only changed counts.
# Keyed as the result table is: the stale-row DELETE probes it once per existing count, and
# without the key SQLite scanned it for each (0.5 s of a 1.8 s province recomputation).
AREA_NEW_SQL = (
    "CREATE TEMP TABLE rollup_area_new (division_code varchar(12), population varchar(20), stage varchar(15), target_number integer, "
    "townships integer, attained integer, PRIMARY KEY (division_code, population, stage, target_number))"
)
AREA_STALE_SQL = """
DELETE FROM evaluation_arearesult
WHERE period = %(period)s AND round_key = %(round)s AND ({areas})
  AND NOT EXISTS (SELECT 1 FROM rollup_area_new n WHERE n.division_code = evaluation_arearesult.division_code
                  AND n.population = evaluation_arearesult.population AND n.stage = evaluation_arearesult.stage
                  AND n.target_number = evaluation_arearesult.target_number)
"""
AREA_WRITE_SQL = """
INSERT INTO evaluation_arearesult (division_code, period, round_key, population, stage, target_number, townships, attained, computed_at)
SELECT division_code, %(period)s, %(round)s, population, stage, target_number, townships, attained, %(now)s FROM rollup_area_new
WHERE 1 = 1
"""
# Whether the round has counts in the levels counted (else the write is a first one, a plain INSERT).
AREA_ANY_SQL = "SELECT 1 FROM evaluation_arearesult WHERE period = %(period)s AND round_key = %(round)s AND ({areas}) LIMIT 1"


# A temporary table of at least this many rows (the whole country's, not a province's) gets
# statistics before it is joined: guessing from a fresh table's size, the planner hashed the wrong
# sides and the by-stage counts took 1.9 s instead of 1.0 at national scale. A province's plans
# well without, and the ANALYZEs were 40 ms of a 0.65 s roll-up.
LARGE_TEMP_ROWS = 100_000


def analyze_if_large(cursor, table_and_columns: str, rows: int) -> None:
    """ANALYZE a temporary table just made with `rows` rows (PostgreSQL) if they are many."""
    if connection.vendor == "postgresql" and rows >= LARGE_TEMP_ROWS:
        cursor.execute(f"ANALYZE {table_and_columns}")


def _levels(prefix: str) -> list[tuple[int, str]]:
    """(width, area) of each level a prefix's results change: the counties and cities inside it,
    and the areas above it (its city, its province)."""
    return [(width, prefix[:width] if width < len(prefix) else prefix) for width in (6, 4, 2)]


@transaction.atomic
def rollup_levels(*, period: int, prefix: str, value_added: bool = True) -> None:
    """Area counts at every level for the 乡镇 under `prefix`: each county and city inside it, and
    the areas above it (its city, the province), which its results change — a few statements per
    round whatever the number of levels."""
    from django.utils import timezone

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
    areas_sql = AREAS_SQL.format(levels=values)
    counted = " OR ".join(
        f"(LENGTH(division_code) = %(w{i})s AND division_code >= %(lo{i})s AND division_code < %(hi{i})s)" for i in range(len(levels)))
    stale_sql, any_sql = AREA_STALE_SQL.format(areas=counted), AREA_ANY_SQL.format(areas=counted)
    town_targets = {}
    changed: set[str] = set()
    with connection.cursor() as cursor:
        tune(cursor)
        for round_key, framework in frameworks_by_round(period).items():
            if framework is None:
                continue
            if framework.pk not in town_targets:
                town_targets[framework.pk] = TOWN_TARGETS_SQL.format(points=point_map(framework))
            town_targets_sql = town_targets[framework.pk]
            base = {"period": period, "now": now, "round": round_key}
            cursor.execute("DROP TABLE IF EXISTS rollup_area_new")
            cursor.execute(AREA_NEW_SQL)
            cursor.execute(areas_sql, {**base, **prefix_range(widest), **level_params})
            cursor.execute("DROP TABLE IF EXISTS rollup_tt")
            cursor.execute("DROP TABLE IF EXISTS rollup_ts")
            with planner_without(cursor, "nestloop"):
                cursor.execute(town_targets_sql, {**base, **prefix_range(widest)})
                rows = cursor.rowcount
            analyze_if_large(cursor, "rollup_tt (code, stage, base)", rows)
            cursor.execute(TOWN_STAGES_SQL)
            analyze_if_large(cursor, "rollup_ts (code, stage, target_number)", cursor.rowcount)
            cursor.execute(stage_sql, {**base, **prefix_range(widest), **level_params})
            # The areas whose counts the statements delete or rewrite are the ones whose pages change.
            cursor.execute(stale_sql + " RETURNING division_code", {**base, **level_params})
            changed.update(row[0] for row in cursor.fetchall())
            _written, rows = insert_or_upsert(cursor, insert=AREA_WRITE_SQL, upsert=AREA_UPSERT, table="evaluation_arearesult",
                                              params={**base, **level_params}, probe=any_sql, returning=" RETURNING division_code")
            changed.update(row[0] for row in rows)
            cursor.execute("DROP TABLE rollup_area_new")
            cursor.execute("DROP TABLE rollup_tt")
            cursor.execute("DROP TABLE rollup_ts")
    if len(prefix) <= 2 and value_added:
        # The value-added fit is province-wide: it follows the province's counts, which every
        # change of a county's results owes (one count per burst), and a full recomputation.
        from .value_added import rollup_value_added

        for province in [prefix] if prefix else province_codes():
            changed.update(rollup_value_added(period=period, province=province))
    # New tokens for the areas whose counts changed (and those above them) only: a province-wide
    # count after one county changed renews that county's, its city's and the province's pages,
    # not every county's. Their other results were announced by the roll-up that changed them.
    results_changed(codes=changed)


def scorecard(*, period: int, round_key: int = 0, province: str = "37") -> dict:
    """The programme goal: at least half (半数以上) of the province's 乡镇 attain all seven targets
    by the end of the 14th five-year plan (2025)."""
    from evaluation.models import AreaResult

    row = AreaResult.objects.filter(
        division_code=province, period=period, round_key=round_key, population="all", stage=EvaluationStage.ALL, target_number=0
    ).first()
    return goal_progress(townships=row.townships if row else 0, attained=row.attained if row else 0)


def goal_progress(*, townships: int, attained: int) -> dict:
    """How far `attained` of `townships` 乡镇 are from the goal (a share of them, by a year)."""
    goal = math.ceil(townships * settings.PROGRAMME_GOAL_SHARE)
    return {
        "townships": townships, "attained": attained, "share": attained / townships if townships else 0,
        "goal": goal, "distance": max(goal - attained, 0), "goal_share": settings.PROGRAMME_GOAL_SHARE,
        "deadline": settings.PROGRAMME_GOAL_YEAR,
    }
