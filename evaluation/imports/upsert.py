"""INSERT … ON CONFLICT DO UPDATE for many rows, without building model instances.

PostgreSQL: rows the diff found absent are COPYed straight into the table; the rest (and the new
rows too, should one exist after all because another upload stored it meanwhile) are COPYed into a
temporary table and written by one INSERT … SELECT … ON CONFLICT. Others (SQLite): executemany of
the same upsert. Either way a handful of statements for any number of rows.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from itertools import islice

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

COPY_BATCH = 2000


def bulk_upsert(
    *,
    model,
    conflict: Sequence[str],
    columns: Sequence[str],
    rows: list[tuple],
    touch: str | None = "updated_at",
    new_rows: list[tuple] | None = None,
) -> int:
    """Upsert `rows` and `new_rows` (tuples in `columns` order, using column names) into `model`'s table.

    On conflict on `conflict` columns, every other listed column is updated (and `touch` set to now).
    `new_rows` are those believed absent: they take the cheaper plain COPY where there is one.
    """
    new_rows = new_rows or []
    if not rows and not new_rows:
        return 0
    cols = list(columns)
    if touch:
        now = timezone.now()
        # COPY reads text: the stamp is formatted once here, not by the CSV writer for each row
        # (the same text: the writer calls str()).
        stamp = str(now) if connection.vendor == "postgresql" else now
        cols.append(touch)
        rows = [(*r, stamp) for r in rows]
        new_rows = [(*r, stamp) for r in new_rows]
    if connection.vendor != "postgresql":
        _executemany_upsert(model, conflict, cols, new_rows + rows)
        return len(rows) + len(new_rows)
    if new_rows and not _copy_new(model, cols, new_rows):
        rows = new_rows + rows
    if rows:
        _copy_upsert(model, conflict, cols, rows)
    return len(rows) + len(new_rows)


def _executemany_upsert(model, conflict, cols, rows) -> None:
    qn = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(cols))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(c) for c in cols)}) VALUES ({placeholders}) {_on_conflict(conflict, cols)}"
    with connection.cursor() as cursor:
        # Django's SQLite backend registers an adapter for Decimal.
        cursor.executemany(sql, rows)


def _on_conflict(conflict, cols) -> str:
    qn = connection.ops.quote_name
    updates = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in cols if c not in conflict)
    return f"ON CONFLICT ({', '.join(qn(c) for c in conflict)}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")


def _copy_new(model, cols, rows) -> bool:
    """COPY rows straight into the table; False (and nothing written) if one of them exists."""
    try:
        with transaction.atomic(savepoint=True), connection.cursor() as cursor:
            _copy(cursor, model, model._meta.db_table, cols, rows)
    except IntegrityError:
        return False
    return True


def _copy_upsert(model, conflict, cols, rows) -> None:
    qn = connection.ops.quote_name
    table = model._meta.db_table
    col_sql = ", ".join(qn(c) for c in cols)
    with connection.cursor() as cursor:
        tmp = f"tmp_upsert_{table}"
        cursor.execute(f"DROP TABLE IF EXISTS {qn(tmp)}")
        # Only the listed columns, no constraints: the real table checks them on INSERT.
        cursor.execute(f"CREATE TEMP TABLE {qn(tmp)} ON COMMIT DROP AS SELECT {col_sql} FROM {qn(table)} WITH NO DATA")
        _copy(cursor, model, tmp, cols, rows)
        cursor.execute(f"INSERT INTO {qn(table)} ({col_sql}) SELECT {col_sql} FROM {qn(tmp)} {_on_conflict(conflict, cols)}")


def _copy(cursor, model, table: str, cols, rows) -> None:
    # CSV COPY: None is written unquoted-empty (NULL); empty text is kept as text by
    # FORCE_NOT_NULL on text columns; True/False/Decimal print as PostgreSQL reads them.
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c in cols)
    text_cols = [qn(c) for c in cols if _is_text(model, c)]
    force = f", FORCE_NOT_NULL ({', '.join(text_cols)})" if text_cols else ""
    raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
    with connection.wrap_database_errors:  # a duplicate key surfaces as Django's IntegrityError
        raw.copy_expert(f"COPY {qn(table)} ({col_sql}) FROM STDIN WITH (FORMAT csv{force})", _CsvStream(rows))


class _CsvStream(io.TextIOBase):
    """The rows as CSV, formatted a batch at a time as COPY reads: the server stores one batch
    while the next is formatted, and the whole text never sits in memory."""

    def __init__(self, rows: list[tuple]):
        self._batches: Iterator[str] = self._format(rows)

    @staticmethod
    def _format(rows) -> Iterator[str]:
        it = iter(rows)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        while batch := list(islice(it, COPY_BATCH)):
            buf.seek(0)
            buf.truncate()
            writer.writerows(batch)
            yield buf.getvalue()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        # COPY sends whatever length it is given; a whole batch per call keeps the calls few.
        return next(self._batches, "")


def _is_text(model, column: str) -> bool:
    field = next(f for f in model._meta.concrete_fields if f.column == column)
    return field.get_internal_type() in ("CharField", "TextField")
