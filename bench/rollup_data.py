"""National-scale demo data for the roll-up bench, generated set-based in PostgreSQL.

The Python demo (townships/services/demo.py, evaluation/services/demo.py) builds an object and a
seeded random generator per school and year: fine for Shandong's 30,000 schools, hours for the
whole country. These statements make the same shape of data — urban schools per county, seat
and village schools per 乡镇, school-year facts for every point, township facts, help relations —
with md5 draws instead of Python's generators: deterministic, plausible, and with the same
spread (each 乡镇 a strength, improving year on year, urban schools setting the reference). The
values are not the Python demo's own; only the bench uses them.
"""
from __future__ import annotations

from django.db import connection, transaction

# Schools per 乡镇 besides the seat schools: about 500,000 schools in all over the 29,575 乡镇 of
# the country (Shandong keeps its Python demo at 24).
VILLAGES = 13

# Codes start with 0, which no real 学校标识码 does (they start with 1–5; the Python demo uses 8
# and 9): ten characters, a running number over the provinces generated together.
SCHOOLS_SQL = """
INSERT INTO townships_school (code, name, stage, township_id, is_seat, is_urban, is_urban_quality, is_demo)
WITH towns AS (
  SELECT d.code, d.name FROM townships_division d
  WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
),
homes AS (
  SELECT DISTINCT ON (d.parent_id) d.code, d.name FROM townships_division d
  WHERE d.level = 'township' AND d.kind IN ('subdistrict', 'town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
  ORDER BY d.parent_id, CASE WHEN d.kind = 'subdistrict' THEN 0 ELSE 1 END, d.code
),
planned(township_id, name, stage, is_seat, is_urban, is_urban_quality, n) AS (
  SELECT h.code, h.name || '城区第' || u.i || u.label, u.stage, FALSE, TRUE, u.i = 1, u.n FROM homes h
  CROSS JOIN (VALUES ('kindergarten', 1, '幼儿园', 1), ('kindergarten', 2, '幼儿园', 2), ('primary', 1, '小学', 3), ('primary', 2, '小学', 4),
                     ('primary', 3, '小学', 5), ('junior', 1, '中学', 6), ('junior', 2, '中学', 7)) AS u(stage, i, label, n)
  UNION ALL
  SELECT t.code, t.name || s.label, s.stage, TRUE, FALSE, FALSE, 10 + s.n FROM towns t
  CROSS JOIN (VALUES ('kindergarten', '中心幼儿园', 1, NULL), ('primary', '中心小学', 2, FALSE), ('junior', '中学', 3, FALSE),
                     ('nine_year', '学校', 4, TRUE)) AS s(stage, label, n, nine)
  WHERE s.nine IS NULL OR s.nine = (GET_BYTE(DECODE(MD5(t.code || ':nine'), 'hex'), 0) %% 5 = 0)
  UNION ALL
  SELECT t.code, t.name || '第' || v.i || CASE WHEN v.i %% 3 = 0 THEN '村幼儿园' ELSE '村小学' END,
         CASE WHEN v.i %% 3 = 0 THEN 'kindergarten' ELSE 'primary' END, FALSE, FALSE, FALSE, 20 + v.i
  FROM towns t CROSS JOIN generate_series(1, %(villages)s) AS v(i)
)
SELECT '0' || LPAD((ROW_NUMBER() OVER (ORDER BY township_id, n))::text, 9, '0'), LEFT(name, 94) || '（演示）',
       stage, township_id, is_seat, is_urban, is_urban_quality, TRUE
FROM planned
ON CONFLICT (code) DO NOTHING
"""

# u(k): the k-th draw in [0, 1) for a school and year; ok(t): whether the 乡镇 is built to meet
# target t that year — strength and a per-target offset from the township code, plus progress.
SCHOOL_YEARS_SQL = """
INSERT INTO evaluation_schoolyear (
  school_id, period, township_id, students, function_rooms_required, function_rooms_present, equipment_value_per_student,
  books_per_student, computers, multimedia_classrooms, recording_rooms, has_canteen, has_boarding, has_school_bus,
  arts_courses_complete, clubs, physical_health_pass_rate, arts_skill_rate, academic_average, mental_health_screening_rate,
  violations, care_quality_grade, play_based_curriculum, safety_grade, teachers, teacher_posts, backbone_teachers,
  degree_teachers, psychology_teachers, updated_at)
WITH base AS (
  SELECT s.id, s.township_id, s.stage, s.is_seat, s.is_urban, s.is_urban_quality,
         s.stage = 'kindergarten' AS k,
         DECODE(MD5(s.code || ':' || %(period)s), 'hex') AS a, DECODE(MD5(s.code || ':' || %(period)s || ':b'), 'hex') AS b,
         DECODE(MD5(s.code), 'hex') AS c,
         GET_BYTE(DECODE(MD5(s.township_id || ':strength'), 'hex'), 0) / 256.0 * 0.9 + (%(period)s - 2022) * 0.12 AS level,
         DECODE(MD5(s.township_id || ':offset'), 'hex') AS o
  FROM townships_school s
  WHERE s.code LIKE '0%%' AND LEFT(s.township_id, 2) = ANY(%(provinces)s)
),
f AS (
  SELECT *,
    is_urban OR level + GET_BYTE(o, 1) / 256.0 * 0.4 - 0.2 > 0.55 AS ok1,
    is_urban OR level + GET_BYTE(o, 2) / 256.0 * 0.4 - 0.2 > 0.55 AS ok2,
    is_urban OR level + GET_BYTE(o, 4) / 256.0 * 0.4 - 0.2 > 0.55 AS ok4,
    is_urban OR level + GET_BYTE(o, 6) / 256.0 * 0.4 - 0.2 > 0.55 AS ok6,
    CASE stage WHEN 'kindergarten' THEN 6 WHEN 'primary' THEN 12 WHEN 'junior' THEN 16 ELSE 20 END AS required,
    (CASE WHEN stage = 'kindergarten' THEN 150 + GET_BYTE(c, 0) WHEN is_urban THEN 1500 + GET_BYTE(c, 0) * 6
          WHEN is_seat THEN 600 + GET_BYTE(c, 0) * 3.5 ELSE 80 + GET_BYTE(c, 0) * 0.86 END
     * (0.95 + GET_BYTE(a, 0) / 2560.0))::int AS students
  FROM base
),
g AS (
  SELECT *, GREATEST(3, students / CASE WHEN k THEN 12 ELSE 14 END) AS teachers FROM f
)
SELECT id, %(period)s, township_id, students, required,
  CASE WHEN is_urban THEN required WHEN ok1 THEN required + GET_BYTE(a, 1) %% 3 ELSE GREATEST(0, required - 1 - GET_BYTE(a, 1) %% 3) END,
  ROUND(CASE WHEN is_urban THEN 2500 + GET_BYTE(a, 2) * 1.95 WHEN ok1 THEN 3000 + GET_BYTE(a, 2) * 2.34 ELSE 1500 + GET_BYTE(a, 2) * 5.46 END, 2),
  ROUND(CASE WHEN is_urban THEN 30 + GET_BYTE(a, 3) / 51.2 WHEN ok1 THEN 36 + GET_BYTE(a, 3) / 42.7 ELSE 18 + GET_BYTE(a, 3) / 17.1 END, 2),
  GREATEST(5, students / CASE WHEN is_urban THEN 8 WHEN ok1 THEN 7 ELSE 11 END),
  GREATEST(2, students / 45),
  CASE WHEN ok1 OR GET_BYTE(a, 4) < 77 THEN 1 ELSE 0 END,
  ok1 OR GET_BYTE(a, 5) < 154,
  stage = 'junior' AND GET_BYTE(a, 6) < 154,
  stage = 'primary' AND NOT is_urban AND GET_BYTE(a, 6) < 102,
  CASE WHEN NOT k THEN ok2 OR GET_BYTE(a, 7) < 128 END,
  CASE WHEN NOT k THEN CASE WHEN ok2 THEN 6 + GET_BYTE(c, 1) %% 15 ELSE 2 + GET_BYTE(c, 1) %% 7 END END,
  CASE WHEN NOT k THEN ROUND(CASE WHEN is_urban THEN 0.90 + GET_BYTE(a, 8) / 4267.0 WHEN ok2 THEN 0.91 + GET_BYTE(a, 8) / 3657.0 ELSE 0.80 + GET_BYTE(a, 8) / 2133.0 END, 4) END,
  CASE WHEN NOT k THEN ROUND(CASE WHEN is_urban THEN 0.80 + GET_BYTE(a, 9) / 2560.0 WHEN ok2 THEN 0.81 + GET_BYTE(a, 9) / 1829.0 ELSE 0.55 + GET_BYTE(a, 9) / 948.0 END, 4) END,
  CASE WHEN NOT k THEN ROUND(CASE WHEN is_urban_quality THEN 85 + GET_BYTE(a, 10) / 36.6 WHEN is_urban THEN 78 + GET_BYTE(a, 10) / 32.0
                                  WHEN ok2 THEN 80 + GET_BYTE(a, 10) / 32.0 ELSE 55 + GET_BYTE(a, 10) / 19.7 END, 2) END,
  CASE WHEN NOT k THEN ROUND(CASE WHEN is_urban THEN 0.95 + GET_BYTE(a, 11) / 5120.0 WHEN ok6 THEN 0.96 + GET_BYTE(a, 11) / 6400.0 ELSE 0.80 + GET_BYTE(a, 11) / 1506.0 END, 4) END,
  CASE WHEN NOT ok2 AND GET_BYTE(a, 12) < 8 THEN 1 ELSE 0 END,
  CASE WHEN NOT k THEN '' WHEN ok2 THEN CASE WHEN GET_BYTE(a, 13) < 128 THEN 'excellent' ELSE 'good' END
       ELSE CASE WHEN GET_BYTE(a, 13) < 128 THEN 'good' ELSE 'pass' END END,
  CASE WHEN k THEN ok2 OR GET_BYTE(a, 14) < 128 END,
  CASE WHEN ok2 THEN CASE WHEN GET_BYTE(a, 15) < 128 THEN 'excellent' ELSE 'good' END ELSE CASE WHEN GET_BYTE(a, 15) < 128 THEN 'good' ELSE 'pass' END END,
  teachers,
  CASE WHEN ok4 THEN teachers - GET_BYTE(b, 0) %% 2 ELSE teachers + 1 + GET_BYTE(b, 0) %% 3 END,
  (teachers * CASE WHEN is_urban THEN 0.20 + GET_BYTE(b, 1) / 5120.0 WHEN ok4 THEN 0.26 + GET_BYTE(b, 1) / 2844.0 ELSE 0.08 + GET_BYTE(b, 1) / 2133.0 END)::int,
  (teachers * CASE WHEN is_urban THEN 0.85 + GET_BYTE(b, 2) / 5120.0 WHEN ok4 THEN 0.91 + GET_BYTE(b, 2) / 3657.0 ELSE 0.60 + GET_BYTE(b, 2) / 1024.0 END)::int,
  CASE WHEN students > 500 OR GET_BYTE(b, 3) < 102 THEN 1 ELSE 0 END,
  NOW()
FROM g
ON CONFLICT (school_id, period) DO NOTHING
"""

TOWNSHIP_YEARS_SQL = """
INSERT INTO evaluation_townshipyear (
  township_id, period, registered_preschool, attending_preschool, registered_primary, attending_primary, registered_junior,
  attending_junior, parent_surveys_issued, parent_surveys_valid, parents_satisfied, student_surveys_issued,
  student_surveys_valid, students_satisfied, district_management, updated_at)
WITH base AS (
  SELECT d.code, DECODE(MD5(d.code || ':town'), 'hex') AS c, DECODE(MD5(d.code || ':town:' || %(period)s), 'hex') AS a,
         GET_BYTE(DECODE(MD5(d.code || ':strength'), 'hex'), 0) / 256.0 * 0.9 + (%(period)s - 2022) * 0.12 AS level,
         DECODE(MD5(d.code || ':offset'), 'hex') AS o
  FROM townships_division d
  WHERE d.level = 'township' AND d.kind IN ('town', 'xiang') AND LEFT(d.code, 2) = ANY(%(provinces)s)
),
f AS (
  SELECT *,
    level + GET_BYTE(o, 5) / 256.0 * 0.4 - 0.2 > 0.55 AS ok5,
    level + GET_BYTE(o, 6) / 256.0 * 0.4 - 0.2 > 0.55 AS ok6,
    level + GET_BYTE(o, 7) / 256.0 * 0.4 - 0.2 > 0.55 AS ok7,
    300 + GET_BYTE(c, 0) * 2 AS r_pre, 900 + GET_BYTE(c, 1) * 6 AS r_pri, 400 + GET_BYTE(c, 2) * 3 AS r_jun,
    300 + GET_BYTE(c, 3) * 2 AS p_issued, 300 + GET_BYTE(c, 4) * 2 AS s_issued
  FROM base
),
g AS (
  SELECT *, 0.65 + GET_BYTE(c, 5) / 1707.0 + (%(period)s - 2022) * CASE WHEN ok7 THEN 0.04 ELSE -0.02 END AS share,
         (p_issued * (0.9 + GET_BYTE(a, 0) / 2844.0))::int AS p_valid, (s_issued * (0.9 + GET_BYTE(a, 1) / 2844.0))::int AS s_valid
  FROM f
)
SELECT code, %(period)s, r_pre, (r_pre * LEAST(0.99, share))::int, r_pri, (r_pri * LEAST(0.99, share))::int, r_jun, (r_jun * LEAST(0.99, share))::int,
       p_issued, p_valid, (p_valid * CASE WHEN ok6 THEN 0.91 + GET_BYTE(a, 2) / 4267.0 ELSE 0.80 + GET_BYTE(a, 2) / 2560.0 END)::int,
       s_issued, s_valid, (s_valid * CASE WHEN ok6 THEN 0.91 + GET_BYTE(a, 3) / 4267.0 ELSE 0.80 + GET_BYTE(a, 3) / 2560.0 END)::int,
       ok5 OR GET_BYTE(c, 6) < 77, NOW()
FROM g
ON CONFLICT (township_id, period) DO NOTHING
"""

# Each seat school is helped by its county's urban quality school of the same stage.
HELP_SQL = """
INSERT INTO evaluation_helprelation (helper_id, helped_id, kind, period, township_id)
SELECT q.id, s.id, CASE WHEN GET_BYTE(DECODE(MD5(s.code), 'hex'), 2) < 154 THEN 'pairing' ELSE 'group' END, %(period)s, s.township_id
FROM townships_school s
JOIN townships_school q ON q.is_urban_quality AND q.stage = s.stage AND LEFT(q.township_id, 6) = LEFT(s.township_id, 6) AND q.code LIKE '0%%'
WHERE s.is_seat AND s.code LIKE '0%%' AND LEFT(s.township_id, 2) = ANY(%(provinces)s)
ON CONFLICT DO NOTHING
"""


@transaction.atomic
def generate_provinces(provinces: list[str], *, periods=(2023, 2024), villages: int = VILLAGES) -> None:
    """Schools and facts for the 乡镇 of `provinces` (two-digit codes), PostgreSQL only."""
    if not provinces:
        return
    assert connection.vendor == "postgresql", "set-based generation uses PostgreSQL functions"
    params = {"provinces": list(provinces), "villages": villages}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(SCHOOLS_SQL, params)
        cursor.execute("ANALYZE townships_school")
        for period in periods:
            cursor.execute(SCHOOL_YEARS_SQL, {**params, "period": period})
            cursor.execute(TOWNSHIP_YEARS_SQL, {**params, "period": period})
            cursor.execute(HELP_SQL, {**params, "period": period})
