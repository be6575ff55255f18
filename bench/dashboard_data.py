"""The dashboard bench's data (bench/dashboard.py; the `load` group uses Shandong's too).

- Shandong: the roll-up bench's data (divisions, ~30k demo schools, 2023–2024 facts), the first
  pilot batch, the demo second batch and demo rounds (`load_demo`), then the real roll-up.
- National: all 41,352 township units. For the 乡镇 outside Shandong, schools, school years,
  point, target and township results (data only: rounds are Shandong's) are generated directly
  in SQL with deterministic pseudo-random verdicts — not from school facts, which did not fit the
  bench's time — and area results by the roll-up's own `rollup_levels`. Provinces that already
  have school facts in the run (the roll-up group at national scale) are rolled up from them
  instead. The output says which. PostgreSQL only.
"""
from __future__ import annotations

import io
import time

from django.core.management import call_command
from django.db import connection, transaction

from evaluation.models import ObservationPoint, PointResult, SchoolYear, SourceKind, TownshipResult
from evaluation.rollup import current_framework, refresh_statistics, rollup_all, rollup_levels
from evaluation.services.demo import load_demo_facts, load_demo_round
from townships.models import Division, Level, School
from townships.services.demo import load_demo_users
from townships.services.divisions import load_divisions

PERIODS = (2023, 2024)
TOWNSHIP = "370881109"  # 曲阜市息陬镇: a first-batch pilot with demo schools
NATIONAL_NOTE = "national: other provinces' result tables generated directly at national size, not from school facts"


def prepare_shandong() -> None:
    # The roll-up bench's Shandong (divisions, 24 village schools per 乡镇, 2023–2024 facts) plus
    # the pilot batches, logins and rounds the dashboard filters by.
    from evaluation.services.rollup_jobs import recomputation_held_back

    with recomputation_held_back():  # every year is recomputed below
        call_command("load_demo", villages_per_township=24, no_users=True, stdout=io.StringIO())
        load_demo_users()
        demo_schools = School.objects.filter(is_demo=True, township__code__startswith="37").count()
        missing = [p for p in PERIODS if SchoolYear.objects.filter(period=p, township__code__startswith="37").count() < demo_schools]
        if missing:
            load_demo_facts(province_prefix="37", periods=missing)
        load_demo_round()
    for period in PERIODS:  # oldest first, so each year sees the one before it
        rollup_all(period=period, prefix="37", analyze=True)
    assert School.objects.filter(township_id=TOWNSHIP).exists(), f"{TOWNSHIP} has no schools"
    assert PointResult.objects.filter(division_code=TOWNSHIP, period=PERIODS[-1]).exists(), f"{TOWNSHIP} has no point results"


def _point_stages() -> list[tuple[int, str]]:
    stages = []
    for pk, kind, point_stages in ObservationPoint.objects.filter(target__framework=current_framework()).values_list("id", "source_kind", "stages"):
        if kind == SourceKind.JUDGMENT:
            continue  # judgments come from inspectors' forms in rounds, which are Shandong's
        if kind == SourceKind.TOWNSHIP_COLUMN:
            stages.append((pk, point_stages or "all"))
        else:
            stages.extend((pk, s) for s in point_stages.split(","))
    return stages


# Codes starting with 6 are ours: demo schools start with 9 or 8, real identifiers with 1–5.
NATIONAL_SCHOOLS_SQL = """
INSERT INTO townships_school (code, name, stage, township_id, is_seat, is_urban, is_urban_quality, is_demo)
SELECT '6' || LPAD((ROW_NUMBER() OVER (ORDER BY d.code, g.n))::text, 9, '0'),
       d.name || '第' || g.n || '校（演示）',
       CASE WHEN g.n = 1 OR g.n %% 3 = 0 THEN 'kindergarten' WHEN g.n = 3 THEN 'junior' ELSE 'primary' END,
       d.code, g.n <= 3, FALSE, FALSE, TRUE
FROM townships_division d CROSS JOIN generate_series(1, 27) AS g(n)
WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
ON CONFLICT (code) DO NOTHING
"""

NATIONAL_SCHOOL_YEARS_SQL = """
INSERT INTO evaluation_schoolyear (school_id, period, township_id, students, teachers, care_quality_grade, safety_grade, updated_at)
SELECT s.id, %(period)s, s.township_id, 80 + GET_BYTE(DECODE(MD5(s.code), 'hex'), 0) * 4, 8 + GET_BYTE(DECODE(MD5(s.code), 'hex'), 1) / 8, '', '', NOW()
FROM townships_school s WHERE LEFT(s.township_id, 2) = ANY(%(provinces)s)
ON CONFLICT (school_id, period) DO NOTHING
"""

# A township's strength and each point's draw come from hashes, so verdicts correlate across a
# township's points and improve year on year, as real ones do; the same every run.
NATIONAL_POINTS_SQL = """
WITH ps(point_id, stage) AS (VALUES {values}),
draw AS (
  SELECT d.code, ps.point_id, ps.stage,
         GET_BYTE(DECODE(MD5(d.code), 'hex'), 0) / 255.0 AS strength,
         GET_BYTE(DECODE(MD5(d.code || ':' || ps.point_id || ':' || ps.stage || ':' || %(period)s), 'hex'), 0) / 255.0 AS noise,
         GET_BYTE(DECODE(MD5(d.code || ':' || ps.point_id || ':' || ps.stage || ':' || (%(period)s - 1)), 'hex'), 0) / 255.0 AS last_noise
  FROM townships_division d CROSS JOIN ps
  WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
)
INSERT INTO evaluation_pointresult (division_code, point_id, period, round_key, stage, value, previous_value, reference, verdict, computed_at)
SELECT code, point_id, %(period)s, 0, stage, ROUND((strength * 0.6 + noise * 0.4)::numeric, 4), ROUND((strength * 0.6 + last_noise * 0.4)::numeric, 4), 0.5,
       CASE WHEN noise < 0.01 THEN 'insufficient'
            WHEN strength * 0.6 + noise * 0.4 + (%(period)s - 2023) * 0.05 > 0.5 THEN 'attained'
            ELSE 'not_attained' END,
       NOW()
FROM draw
ON CONFLICT (division_code, point_id, period, round_key, stage) DO NOTHING
"""

# The roll-up's verdict rule for a target (any point not attained, else any without data) and its
# township count, for data points only: rounds and judgments are Shandong's.
NATIONAL_TARGETS_SQL = """
INSERT INTO evaluation_targetresult (division_code, target_number, period, round_key, verdict, score, vetoed, computed_at)
SELECT pr.division_code, t.number, pr.period, 0,
       CASE WHEN BOOL_OR(pr.verdict = 'not_attained') THEN 'not_attained' WHEN BOOL_OR(pr.verdict = 'insufficient') THEN 'insufficient' ELSE 'attained' END,
       ROUND(100.0 * AVG(CASE pr.verdict WHEN 'attained' THEN 1.0 WHEN 'not_attained' THEN 0.0 END), 1),
       BOOL_OR(p.veto AND pr.verdict = 'not_attained'), NOW()
FROM evaluation_pointresult pr
JOIN evaluation_observationpoint p ON p.id = pr.point_id
JOIN evaluation_target t ON t.id = p.target_id
WHERE pr.period = %(period)s AND pr.round_key = 0 AND LEFT(pr.division_code, 2) = ANY(%(provinces)s)
GROUP BY pr.division_code, t.number, pr.period
ON CONFLICT (division_code, target_number, period, round_key) DO NOTHING
"""

NATIONAL_TOWNSHIPS_SQL = """
INSERT INTO evaluation_townshipresult (division_code, period, round_key, targets_attained, all_seven, score, computed_at)
SELECT division_code, period, 0, COUNT(*) FILTER (WHERE verdict = 'attained'),
       COUNT(*) FILTER (WHERE verdict = 'attained') = 7 AND NOT BOOL_OR(vetoed), ROUND(AVG(score), 1), NOW()
FROM evaluation_targetresult
WHERE period = %(period)s AND round_key = 0 AND LEFT(division_code, 2) = ANY(%(provinces)s)
GROUP BY division_code, period
ON CONFLICT (division_code, period, round_key) DO NOTHING
"""


def prepare_national() -> str:
    """The other provinces at national size; returns a note on how their results were made."""
    started = time.perf_counter()
    load_divisions(provinces=None)
    todo = [
        code for code in Division.objects.filter(level=Level.PROVINCE).exclude(code="37").order_by("code").values_list("code", flat=True)
        if not TownshipResult.objects.filter(division_code__startswith=code, period=PERIODS[-1]).exists()
    ]
    # Provinces another group gave school facts (the roll-up bench at national scale) are rolled
    # up from them; the rest get their result tables generated directly.
    from_facts = [p for p in todo if SchoolYear.objects.filter(township__code__startswith=p, period=PERIODS[-1]).exists()]
    direct = [p for p in todo if p not in from_facts]
    if direct:
        _generate(direct)
    for period in PERIODS:
        for province in from_facts:
            rollup_all(period=period, prefix=province)
        for province in direct:
            rollup_levels(period=period, prefix=province)
    refresh_statistics()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE evaluation_townshipresult, evaluation_arearesult")
    towns = Division.objects.filter(level=Level.TOWNSHIP).count()
    results = TownshipResult.objects.filter(period=PERIODS[-1], round_key=0).count()
    made = f"{len(direct)} provinces generated directly, {len(from_facts)} rolled up from school facts" if todo else "already loaded"
    return (
        f"{NATIONAL_NOTE if direct else 'national'}: {made} in {time.perf_counter() - started:.0f} s; "
        f"{towns} township units, {School.objects.count()} schools, {results} township results {PERIODS[-1]}"
    )


@transaction.atomic  # all or nothing: a half-generated province would be skipped the next time
def _generate(provinces: list[str]) -> None:
    values = ", ".join(f"({pk}, '{stage}')" for pk, stage in _point_stages())
    with connection.cursor() as cursor:
        cursor.execute(NATIONAL_SCHOOLS_SQL, {"provinces": provinces})
        for period in PERIODS:
            params = {"provinces": provinces, "period": period}
            cursor.execute(NATIONAL_SCHOOL_YEARS_SQL, params)
            cursor.execute(NATIONAL_POINTS_SQL.format(values=values), params)
            cursor.execute(NATIONAL_TARGETS_SQL, params)
            cursor.execute(NATIONAL_TOWNSHIPS_SQL, params)
    refresh_statistics()
