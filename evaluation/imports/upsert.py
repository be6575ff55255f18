"""INSERT … ON CONFLICT DO UPDATE for many rows, without building model instances.

PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT. Others (SQLite):
executemany of the same upsert. Both are a handful of statements for any number of rows.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone


def bulk_upsert(*, model, conflict: Sequence[str], columns: Sequence[str], rows: list[tuple], touch: str | None = "updated_at") -> int:
    """Upsert `rows` (tuples in `columns` order, using column names) into `model`'s table.

    On conflict on `conflict` columns, every other listed column is updated (and `touch` set to now).
    """
    if not rows:
        return 0
    table = model._meta.db_table
    qn = connection.ops.quote_name
    cols = list(columns)
    now = timezone.now()
    if touch:
        cols.append(touch)
        rows = [(*r, now) for r in rows]
    col_sql = ", ".join(qn(c) for c in cols)
    updates = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in cols if c not in conflict)
    on_conflict = f"ON CONFLICT ({', '.join(qn(c) for c in conflict)}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tmp = f"tmp_upsert_{table}"
            cursor.execute(f"DROP TABLE IF EXISTS {qn(tmp)}")
            # Only the listed columns, no constraints: the real table checks them on INSERT.
            cursor.execute(f"CREATE TEMP TABLE {qn(tmp)} ON COMMIT DROP AS SELECT {col_sql} FROM {qn(table)} WITH NO DATA")
            # CSV COPY: None is written unquoted-empty (NULL); empty text is kept as text by
            # FORCE_NOT_NULL on text columns; True/False/Decimal print as PostgreSQL reads them.
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            buf.seek(0)
            text_cols = [qn(c) for c in cols if _is_text(model, c)]
            force = f", FORCE_NOT_NULL ({', '.join(text_cols)})" if text_cols else ""
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            raw.copy_expert(f"COPY {qn(tmp)} ({col_sql}) FROM STDIN WITH (FORMAT csv{force})", buf)
            cursor.execute(f"INSERT INTO {qn(table)} ({col_sql}) SELECT {col_sql} FROM {qn(tmp)} {on_conflict}")
        else:
            placeholders = ", ".join(["%s"] * len(cols))
            sql = f"INSERT INTO {qn(table)} ({col_sql}) VALUES ({placeholders}) {on_conflict}"
            # Django's SQLite backend registers an adapter for Decimal.
            cursor.executemany(sql, rows)
    return len(rows)


def _is_text(model, column: str) -> bool:
    field = next(f for f in model._meta.concrete_fields if f.column == column)
    return field.get_internal_type() in ("CharField", "TextField")
