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
from .scope import frameworks_by_round, prefix_range, tune
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

# Areas of one level (county 6, city 4, province 2 digits) for the whole township: × population ×
# target (0 = all seven).
AREAS_SQL = f"""
WITH {POPULATIONS},
verdicts(code, target_number, attained) AS (
  SELECT division_code, target_number, CASE WHEN verdict = {w.ATTAINED} THEN 1 ELSE 0 END FROM evaluation_targetresult
  WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
  UNION ALL
  SELECT division_code, 0, CASE WHEN all_seven THEN 1 ELSE 0 END FROM evaluation_townshipresult
  WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
),
targets(n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7))
INSERT INTO rollup_area_new (division_code, population, stage, target_number, townships, attained)
SELECT SUBSTR(pop.code, 1, %(width)s), pop.population, {w.WHOLE_TOWNSHIP}, targets.n, COUNT(*), COALESCE(SUM(v.attained), 0)
FROM pop CROSS JOIN targets
LEFT JOIN verdicts v ON v.code = pop.code AND v.target_number = targets.n
WHERE 1 = 1
GROUP BY SUBSTR(pop.code, 1, %(width)s), pop.population, targets.n
"""

# By stage: a 乡镇 counts for a stage when it has results at that stage (it has such schools); it
# attains a target at that stage when every point of the target at that stage or for the whole
# township ('all': township facts, judgments) is attained, and all seven when its seven targets are.
# First each township's verdicts are folded per (stage or 'all', target) — one pass over the point
# results of the widest area — then per stage it has, with the target 0 row for all seven (always
# there, so it also marks the stages a township has). {target} and {ids} are filled from `point_map`
# of the round's framework version.
TOWN_TARGETS_SQL = f"""
CREATE TEMP TABLE rollup_tt AS
SELECT code, stage, target_number, MIN(attained) AS attained, MIN(round_key) AS base FROM (
  SELECT division_code AS code, stage, {{target}} AS target_number, round_key,
         CASE WHEN verdict = {w.ATTAINED} THEN 1 ELSE 0 END AS attained
  FROM evaluation_pointresult
  WHERE period = %(period)s AND round_key IN (0, %(round)s) AND division_code >= %(lo)s AND division_code < %(hi)s AND point_id IN ({{ids}})
) q
GROUP BY code, stage, target_number
"""

TOWN_STAGES_SQL = f"""
CREATE TEMP TABLE rollup_ts AS
WITH present AS (SELECT DISTINCT code, stage FROM rollup_tt WHERE stage <> {w.WHOLE_TOWNSHIP} AND base = 0),
by_target AS (
  SELECT p.code AS code, p.stage AS stage, tt.target_number AS target_number, MIN(tt.attained) AS attained
  FROM present p JOIN rollup_tt tt ON tt.code = p.code AND tt.stage IN (p.stage, {w.WHOLE_TOWNSHIP})
  WHERE tt.target_number IS NOT NULL
  GROUP BY p.code, p.stage, tt.target_number
)
SELECT code, stage, target_number, attained FROM by_target
UNION ALL
SELECT p.code, p.stage, 0, CASE WHEN SUM(b.attained) = 7 THEN 1 ELSE 0 END
FROM present p LEFT JOIN by_target b ON b.code = p.code AND b.stage = p.stage
GROUP BY p.code, p.stage
"""

# Every level at once: {levels} lists (width, lo, hi) — each county and city inside the prefix and
# the areas above it.
AREAS_STAGE_SQL = f"""
WITH levels(width, lo, hi) AS (VALUES {{levels}}),
{POPULATIONS},
targets(n) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7))
INSERT INTO rollup_area_new (division_code, population, stage, target_number, townships, attained)
SELECT SUBSTR(pop.code, 1, lv.width), pop.population, present.stage, targets.n, COUNT(*), COALESCE(SUM(v.attained), 0)
FROM levels lv
JOIN pop ON pop.code >= lv.lo AND pop.code < lv.hi
JOIN rollup_ts present ON present.code = pop.code AND present.target_number = 0
CROSS JOIN targets
LEFT JOIN rollup_ts v ON v.code = pop.code AND v.stage = present.stage AND v.target_number = targets.n
WHERE 1 = 1
GROUP BY SUBSTR(pop.code, 1, lv.width), pop.population, present.stage, targets.n
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
""" + AREA_UPSERT


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
    stale_sql = AREA_STALE_SQL.format(areas=" OR ".join(
        f"(LENGTH(division_code) = %(w{i})s AND division_code >= %(lo{i})s AND division_code < %(hi{i})s)" for i in range(len(levels))))
    town_targets = {}
    changed: set[str] = set()
    with connection.cursor() as cursor:
        tune(cursor)
        for round_key, framework in frameworks_by_round(period).items():
            if framework is None:
                continue
            if framework.pk not in town_targets:
                mapped = point_map(framework)
                town_targets[framework.pk] = TOWN_TARGETS_SQL.format(target=mapped["target"], ids=mapped["ids"])
            town_targets_sql = town_targets[framework.pk]
            base = {"period": period, "now": now, "round": round_key}
            cursor.execute("DROP TABLE IF EXISTS rollup_area_new")
            cursor.execute(AREA_NEW_SQL)
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
            # The areas whose counts the statements delete or rewrite are the ones whose pages change.
            cursor.execute(stale_sql + " RETURNING division_code", {**base, **level_params})
            changed.update(row[0] for row in cursor.fetchall())
            cursor.execute(AREA_WRITE_SQL + " RETURNING division_code", base)
            changed.update(row[0] for row in cursor.fetchall())
            cursor.execute("DROP TABLE rollup_area_new")
            cursor.execute("DROP TABLE rollup_tt")
            cursor.execute("DROP TABLE rollup_ts")
    if len(prefix) <= 2 and value_added:
        # The value-added fit is province-wide: it follows the province's counts, which every
        # change of a county's results owes (one count per burst), and a full recomputation.
        from .value_added import rollup_value_added

        changed.update(rollup_value_added(period=period, province=prefix[:2]))
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
