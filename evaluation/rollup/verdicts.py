"""From point results to verdicts: the inspectors' judgments as point results of their round, each
township's seven targets (verdict, score, veto) and the township's count of attained targets —
for no round (data points alone) and for each round of the school year."""
from __future__ import annotations

from django.db import connection

from evaluation.models import ObservationPoint

from . import words as w
from .points import POINTS_UPSERT
from .scope import announce_changed, drop_unheld, frameworks_by_round, insert_or_upsert, planner_without, prefix_range, tune

# A judgment counts once its form is submitted; a point without a submitted level has no data.
# {rounds}: the rounds to write, ids written out (integers) — every round of the year in a full
# roll-up, a changed form's own round after it is submitted or returned.
JUDGMENTS_SQL = f"""
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, reference, verdict, computed_at)
SELECT rt.township_id, p.id, r.period, r.id, {w.WHOLE_TOWNSHIP}, NULL, NULL,
       CASE WHEN f.status = 'submitted' AND j.level IN ({w.JUDGMENT_LEVELS}) THEN j.level ELSE {w.INSUFFICIENT} END,
       %(now)s
FROM evaluation_round r
JOIN evaluation_roundtownship rt ON rt.round_id = r.id
JOIN evaluation_target t ON t.framework_id = r.framework_id
JOIN evaluation_observationpoint p ON p.target_id = t.id AND p.source_kind = 'judgment'
LEFT JOIN evaluation_inspectionform f ON f.round_id = r.id AND f.township_id = rt.township_id
LEFT JOIN evaluation_judgment j ON j.form_id = f.id AND j.point_id = p.id
WHERE r.period = %(period)s AND r.id IN ({{rounds}}) AND rt.township_id >= %(lo)s AND rt.township_id < %(hi)s
""" + POINTS_UPSERT


def point_map(framework) -> str:
    """The framework's points as a VALUES list of (point, target, weight in hundredths — weights
    have two decimals, so integer sums are exact —, veto), for a CTE
    `m(point_id, target_number, weight, veto)` the result rows are joined with — on its key, a
    hash of a few dozen rows (the statements join it with nested loops disabled: after a bulk
    write the result table's statistics can lag). A CASE per column did the same: 75 comparisons
    for each of a national roll-up's 1.5 million rows."""
    rows = list(ObservationPoint.objects.filter(target__framework=framework).order_by("pk").values_list("pk", "target__number", "weight", "veto"))
    if not rows:
        return "(CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), 0)"
    return ", ".join(
        f"({int(pk)}, {int(n)}, {'CAST(NULL AS INTEGER)' if weight is None else int(weight * 100)}, {1 if veto else 0})"
        for pk, n, weight, veto in rows
    )


# A target: not attained if any point is (a failed veto point among them), else insufficient if
# any point lacks data, else 基本达成 if any point is only basically attained, else attained. The
# score weighs the points' credits once every point has data — a target with a point lacking data
# has no score (NULL), never one counted over the rest — and never decides the verdict. Data points (round 0) count in
# every round of their period; judgments only in their round. {points} is filled from `point_map`.
TARGETS_SQL = f"""
WITH m(point_id, target_number, weight, veto) AS (VALUES {{points}}),
pr AS (
  SELECT r.division_code AS division_code, r.verdict AS verdict, m.target_number AS target_number, m.weight AS weight, m.veto AS veto
  FROM evaluation_pointresult r JOIN m ON m.point_id = r.point_id
  WHERE r.period = %(period)s AND r.round_key IN (0, %(round)s) AND r.division_code >= %(lo)s AND r.division_code < %(hi)s
)
INSERT INTO evaluation_targetresult (division_code, target_number, period, round_key, verdict, score, vetoed, computed_at)
SELECT pr.division_code, pr.target_number, %(period)s, %(round)s,
  CASE WHEN COUNT(*) FILTER (WHERE pr.verdict = {w.NOT_ATTAINED}) > 0 THEN {w.NOT_ATTAINED}
       WHEN COUNT(*) FILTER (WHERE pr.verdict = {w.INSUFFICIENT}) > 0 THEN {w.INSUFFICIENT}
       WHEN COUNT(*) FILTER (WHERE pr.verdict = {w.BASIC}) > 0 THEN {w.BASIC}
       ELSE {w.ATTAINED} END,
  CASE WHEN COUNT(*) FILTER (WHERE pr.verdict = {w.INSUFFICIENT}) = 0
       THEN ROUND(100.0 * ({w.credited_weight('pr.weight', 'pr.verdict')}) / NULLIF(SUM(pr.weight), 0), 1) END,
  COUNT(*) FILTER (WHERE pr.veto = 1 AND pr.verdict = {w.NOT_ATTAINED}) > 0,
  %(now)s
FROM pr
WHERE 1 = 1
GROUP BY pr.division_code, pr.target_number
"""
TARGETS_UPSERT = """
ON CONFLICT (division_code, target_number, period, round_key)
DO UPDATE SET verdict = EXCLUDED.verdict, score = EXCLUDED.score, vetoed = EXCLUDED.vetoed, computed_at = EXCLUDED.computed_at
WHERE evaluation_targetresult.verdict <> EXCLUDED.verdict OR evaluation_targetresult.score IS DISTINCT FROM EXCLUDED.score
   OR evaluation_targetresult.vetoed <> EXCLUDED.vetoed
"""

# A township attains "all seven" when its seven targets are attained and no veto point failed. Its
# score is the mean of its targets' scores when every target has one, else NULL (rules.township_score).
TOWNSHIPS_SQL = f"""
INSERT INTO evaluation_townshipresult (division_code, period, round_key, targets_attained, all_seven, score, computed_at)
SELECT division_code, period, round_key,
       SUM(CASE WHEN verdict = {w.ATTAINED} THEN 1 ELSE 0 END),
       SUM(CASE WHEN verdict = {w.ATTAINED} THEN 1 ELSE 0 END) = 7 AND MAX(CASE WHEN vetoed THEN 1 ELSE 0 END) = 0,
       CASE WHEN COUNT(score) = COUNT(*) THEN ROUND(AVG(score), 1) END, %(now)s
FROM evaluation_targetresult
WHERE period = %(period)s AND round_key = %(round)s AND division_code >= %(lo)s AND division_code < %(hi)s
GROUP BY division_code, period, round_key
"""
TOWNSHIPS_UPSERT = """
ON CONFLICT (division_code, period, round_key)
DO UPDATE SET targets_attained = EXCLUDED.targets_attained, all_seven = EXCLUDED.all_seven, score = EXCLUDED.score, computed_at = EXCLUDED.computed_at
WHERE evaluation_townshipresult.targets_attained <> EXCLUDED.targets_attained OR evaluation_townshipresult.all_seven <> EXCLUDED.all_seven
   OR evaluation_townshipresult.score IS DISTINCT FROM EXCLUDED.score
"""


def judgments_and_verdicts(*, period: int, county: str, round_keys: list[int]) -> None:
    """The judgments of each round in `round_keys`, then its targets and townships (0: data points
    alone, no judgments), for the 乡镇 under `county` (any prefix) — each round by the framework
    version it names, round 0 by the version in force for the year. A round's rows read only its
    own forms and round 0, so the rounds left out are left as they are."""
    from django.utils import timezone

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"period": period, **prefix_range(county), "now": now}
    by_round = frameworks_by_round(period)
    maps: dict[int, str] = {}
    with connection.cursor() as cursor:
        tune(cursor)
        for table in ("evaluation_targetresult", "evaluation_townshipresult"):
            drop_unheld(cursor, table, params)
        judged = sorted({int(k) for k in round_keys if k})
        if judged:
            cursor.execute(JUDGMENTS_SQL.format(rounds=", ".join(str(k) for k in judged)), params)
        for round_key in round_keys:
            framework = by_round.get(round_key)
            if framework is None:
                continue
            if framework.pk not in maps:
                maps[framework.pk] = TARGETS_SQL.format(points=point_map(framework))
            round_params = {**params, "round": round_key}
            with planner_without(cursor, "nestloop"):
                insert_or_upsert(cursor, insert=maps[framework.pk], upsert=TARGETS_UPSERT, table="evaluation_targetresult", params=round_params)
            insert_or_upsert(cursor, insert=TOWNSHIPS_SQL, upsert=TOWNSHIPS_UPSERT, table="evaluation_townshipresult", params=round_params)
    announce_changed(county)  # result pages cached under the old tokens are stale now
