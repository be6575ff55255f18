"""Floors: the least the same work costs on this machine, measured in the same run as ours, so
every time has its limit beside it however loaded the machine is (ratio = floor time ÷ ours).

- Upload: read the same file with python-calamine (the fastest XLSX reader in Python) and COPY
  the same rows, as text, into a bare table (no index, no constraint; SQLite: one executemany) —
  no validation, no diff, no history.
- Roll-up: the same student-weighted means of every school point per 乡镇 and stage (seat
  schools) and of the county's urban schools (the references), the gap's verdict beside them, as
  one raw `INSERT … SELECT` over the same facts into a bare table — no previous year, no township
  facts, no judgments, targets or area counts.
- Value-added: the same rows the roll-up wrote (every school and 乡镇 of every line) copied by one
  raw `INSERT … SELECT` into a bare table — writing that many rows at best, with no fit, no
  interval, no comparison with what was there.
"""
from __future__ import annotations

import csv
import io
import time

from django.db import connection, transaction
from python_calamine import CalamineWorkbook

from evaluation.models import ObservationPoint, SchoolYear, SourceKind
from evaluation.rollup import current_framework, prefix_range
from evaluation.rollup import words as w

UPLOAD_TABLE = "bench_floor_upload"
ROLLUP_TABLE = "bench_floor_points"
VALUE_ADDED_TABLE = "bench_floor_value_added"


def _recreate(cursor, table: str, columns: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TABLE {table} ({columns})")


def upload_floor_s(data: bytes) -> float:
    """Seconds to read the XLSX with calamine and COPY its data rows into a bare table."""
    with connection.cursor() as cursor:
        started = time.perf_counter()
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(skip_empty_area=True)
        header, body = rows[0], [r for r in rows[1:] if any(v not in ("", None) for v in r)]
        width = len(header)
        if connection.vendor == "postgresql":
            _recreate(cursor, UPLOAD_TABLE, ", ".join(f"c{i} text" for i in range(width)))
            buffer = io.StringIO()
            csv.writer(buffer).writerows(body)
            buffer.seek(0)
            cursor.connection.cursor().copy_expert(f"COPY {UPLOAD_TABLE} FROM STDIN WITH (FORMAT csv)", buffer)
        else:
            _recreate(cursor, UPLOAD_TABLE, ", ".join(f"c{i} text" for i in range(width)))
            marks = ", ".join(["%s"] * width)
            # In one transaction, as our import writes: in autocommit each row was its own commit
            # (34 s for 30,000 rows: the "floor" was slower than the portal).
            with transaction.atomic():
                cursor.executemany(f"INSERT INTO {UPLOAD_TABLE} VALUES ({marks})", [[None if v == "" else str(v) for v in r] for r in body])
        elapsed = time.perf_counter() - started
        cursor.execute(f"SELECT COUNT(*) FROM {UPLOAD_TABLE}")
        copied = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {UPLOAD_TABLE}")
    assert copied == len(body), (copied, len(body))
    return elapsed


def _rollup_floor_sql(points: list[ObservationPoint]) -> str:
    def col(name: str) -> str:
        field = SchoolYear._meta.get_field(name)
        ref = f"sy.{connection.ops.quote_name(field.column)}"
        internal = field.get_internal_type()
        if internal == "BooleanField":
            return f"CASE WHEN {ref} THEN 1.0 WHEN NOT {ref} THEN 0.0 END"
        if internal == "CharField":
            return w.grade_number(ref)
        return f"{ref} * 1.0"

    columns = "".join(f", {col(p.column)} AS x{i}" for i, p in enumerate(points))
    means = "".join(f", SUM(x{i} * students) / NULLIF(SUM(CASE WHEN x{i} IS NOT NULL THEN students END), 0) AS m{i}" for i in range(len(points)))
    pick = lambda alias, prefix: "CASE p.i " + " ".join(f"WHEN {i} THEN {alias}.{prefix}{i}" for i in range(len(points))) + " END"
    ids = ", ".join(f"({i}, {int(p.pk)})" for i, p in enumerate(points))
    return f"""
INSERT INTO {ROLLUP_TABLE} (code, stage, point_id, value, reference, verdict)
WITH sm(school_stage, stage) AS (VALUES {w.STAGE_VALUES}),
base AS (
  SELECT sy.township_id AS code, SUBSTR(sy.township_id, 1, 6) AS county, sm.stage AS stage, s.is_seat AS is_seat, s.is_urban AS is_urban,
         sy.students * 1.0 AS students{columns}
  FROM evaluation_schoolyear sy JOIN townships_school s ON s.id = sy.school_id JOIN sm ON sm.school_stage = s.stage
  WHERE sy.period = %(period)s AND sy.township_id >= %(lo)s AND sy.township_id < %(hi)s
),
town AS (SELECT code, county, stage{means} FROM base WHERE is_seat GROUP BY code, county, stage),
ref AS (SELECT county, stage{means} FROM base WHERE is_urban GROUP BY county, stage),
p(i, point_id) AS (VALUES {ids}),
v AS (
  SELECT t.code AS code, t.stage AS stage, p.point_id AS point_id, {pick('t', 'm')} AS value, {pick('r', 'm')} AS reference
  FROM town t LEFT JOIN ref r ON r.county = t.county AND r.stage = t.stage CROSS JOIN p
)
SELECT code, stage, point_id, value, reference,
       CASE WHEN value IS NULL OR reference IS NULL THEN {w.INSUFFICIENT} WHEN value >= reference THEN {w.ATTAINED} ELSE {w.NOT_ATTAINED} END
FROM v
"""


def rollup_floor_s(*, period: int, prefix: str) -> tuple[float, int]:
    """Seconds for the floor statement over the area's facts, and the rows it wrote."""
    points = list(
        ObservationPoint.objects.filter(target__framework=current_framework(), source_kind=SourceKind.SCHOOL_COLUMN).order_by("pk")
    )
    sql = _rollup_floor_sql(points)
    with connection.cursor() as cursor:
        _recreate(cursor, ROLLUP_TABLE, "code varchar(12), stage varchar(16), point_id bigint, value numeric, reference numeric, verdict varchar(16)")
        if connection.vendor == "postgresql":
            cursor.execute("SET work_mem = '64MB'")  # the roll-up's own setting (evaluation/rollup/scope.tune)
        started = time.perf_counter()
        cursor.execute(sql, {"period": period, **(prefix_range(prefix) if prefix else {"lo": "", "hi": "~"})})
        elapsed = time.perf_counter() - started
        cursor.execute(f"SELECT COUNT(*) FROM {ROLLUP_TABLE}")
        rows = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute("RESET work_mem")
        cursor.execute(f"DROP TABLE {ROLLUP_TABLE}")
    return elapsed, rows


def value_added_floor_s(*, period: int, prefix: str) -> float:
    """Seconds to copy the value-added rows of the area's provinces into a bare table."""
    columns = ("division_code varchar(12), school_code varchar(20), point_id bigint, stage varchar(15), students integer, previous numeric, "
               "actual numeric, expected numeric, value_added numeric, lower numeric, upper numeric, verdict varchar(12), schools_fitted integer")
    names = ", ".join(c.split()[0] for c in columns.split(", "))
    rng = prefix_range(prefix[:2]) if prefix else {"lo": "", "hi": "~"}
    with connection.cursor() as cursor:
        _recreate(cursor, VALUE_ADDED_TABLE, columns)
        started = time.perf_counter()
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO {VALUE_ADDED_TABLE} ({names}) SELECT {names} FROM evaluation_valueadded "
                "WHERE period = %(period)s AND division_code >= %(lo)s AND division_code < %(hi)s",
                {"period": period, **rng},
            )
        elapsed = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {VALUE_ADDED_TABLE}")
    return elapsed
