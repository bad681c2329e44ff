"""Rows straight into tables, inside the caller's transaction: the bulk path under `feedback_import`.

The importer builds plain tuples (ids reserved here, JSON already encoded, defaults filled once per column),
and this module writes them with the fastest statement each backend has: psycopg 3's `COPY ... FROM
STDIN` on PostgreSQL, one `executemany` INSERT on SQLite. No model instances, no signals, no RETURNING.

Ids are reserved before the rows are built, so children can name their parents in the same batch:
`nextval` of the table's sequence on PostgreSQL (concurrent writers get other numbers); on SQLite the
transaction holds the database's write lock from BEGIN (`transaction_mode="IMMEDIATE"`, settings.py), so
the next ids after the table's highest (and its AUTOINCREMENT high-water mark) are ours.

`SeenKeys` remembers the ids a file has used so far (with their content hash and first line) in a
temporary table, not in memory, so an import stays flat in memory however long its file."""

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import JSONField
from django.utils import timezone

T = TypeVar("T")

SQLITE_PARAMS = 500  # keys per IN (...) on SQLite


def _default(field: models.Field) -> Any:
    """A column's default as the value the database stores."""
    value = field.get_default()
    if isinstance(field, JSONField):
        return json.dumps(value, cls=field.encoder)
    return field.get_db_prep_save(value, connection)


def refresh_statistics(*tables: type[models.Model]) -> None:
    """After a bulk write, PostgreSQL's planner statistics of these tables, now (ANALYZE samples a fixed number of
    rows: about a second at a million) instead of whenever autovacuum gets there (docs/operations.md). Nothing on
    SQLite. Only the key columns: the JSON and long-text bodies (contents, texts, rankings, metadata) are never
    joined, grouped or sorted on, and where a JSON path is a condition (`metadata__generation__job`) PostgreSQL has
    no statistics for it anyway; theirs were most of ANALYZE's time (0.65 s of an import of 10,000 ranking lines,
    0.2 s without them). Their older statistics stay until autovacuum's next ANALYZE."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    parts = []
    for model in tables:
        keys = [quote(str(f.column)) for f in model._meta.concrete_fields if not isinstance(f, STATISTICS_SKIPPED)]
        parts.append(f"{quote(model._meta.db_table)} ({', '.join(keys)})")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(parts))


STATISTICS_SKIPPED = (models.JSONField, models.TextField)  # bodies: never a join, group or sort key


def write_rows(table: str, columns: str, width: int, rows: Sequence[tuple]) -> None:
    """COPY on PostgreSQL, one executemany INSERT elsewhere; `table` and `columns` quoted already."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * width)
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


class Table:
    """One model's table: `columns` given per row (attnames, in order), every other column its default.
    `created_at` (auto_now_add) is filled with the time of the batch."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        self.name = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.given = tuple(columns)
        self.stamped = "created_at" in fields and "created_at" not in self.given
        rest = [f for name, f in fields.items() if name not in self.given and name != "created_at"]
        names = [str(fields[name].column) for name in self.given]
        names += ["created_at"] if self.stamped else []
        names += [str(f.column) for f in rest]
        self.column_names = names
        self.defaults = tuple(_default(f) for f in rest)
        self.quoted = ", ".join(connection.ops.quote_name(n) for n in names)
        self.sequence: str | None = None  # PostgreSQL: the id column's sequence, once reserve() needs it

    def insert(self, rows: Iterable[tuple]) -> int:
        """Write rows (tuples in `columns` order). Returns how many."""
        tail = self.defaults
        if self.stamped:
            tail = (connection.ops.adapt_datetimefield_value(timezone.now()), *tail)
        full = [row + tail for row in rows]
        if not full:
            return 0
        write_rows(connection.ops.quote_name(self.name), self.quoted, len(self.column_names), full)
        return len(full)

    def reserve(self, count: int) -> list[int]:
        """`count` fresh primary keys for this table (see the module docstring)."""
        if count <= 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if self.sequence is None:  # looked up once: per row it cost 8 times the nextval itself
                    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [connection.ops.quote_name(self.name)])
                    self.sequence = cursor.fetchone()[0]
                # The numbers as a range when no concurrent writer took one in between (the usual case), else
                # each of them.
                cursor.execute(
                    "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
                    "ELSE array_agg(v ORDER BY v) END FROM (SELECT nextval(%s::regclass) AS v "
                    "FROM generate_series(1, %s)) AS ids",
                    [self.sequence, count],
                )
                first, last, each = cursor.fetchone()
                return list(range(first, last + 1)) if each is None else list(each)
            cursor.execute(
                f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(self.name)}), 0))",
                [self.name],
            )
            last = cursor.fetchone()[0]
        return list(range(last + 1, last + 1 + count))


class SeenKeys:
    """The keys a file has used so far, each with its content hash and first line, in a temporary table
    of this connection (dropped by `close`, or with the transaction that created it when that rolls back)."""

    def __init__(self) -> None:
        self.name = f"import_seen_{uuid.uuid4().hex[:12]}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {self.name} (key TEXT PRIMARY KEY, hash TEXT, line INTEGER)")

    def lookup(self, keys: Sequence[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        if not keys:
            return found
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT key, hash, line FROM {self.name} WHERE key = ANY(%s)", [list(keys)])
                found.update((k, (h, n)) for k, h, n in cursor.fetchall())
                return found
            for start in range(0, len(keys), SQLITE_PARAMS):
                chunk = keys[start : start + SQLITE_PARAMS]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT key, hash, line FROM {self.name} WHERE key IN ({marks})", chunk)
                found.update((k, (h, n)) for k, h, n in cursor.fetchall())
        return found

    def add(self, rows: Sequence[tuple[str, str, int]]) -> None:
        if rows:
            write_rows(self.name, "key, hash, line", 3, rows)

    def first_uses(
        self,
        records: Sequence[T],
        key: Callable[[T], str],
        *,
        unchanged: Callable[[T], None],
        clash: Callable[[T, int], None],
    ) -> list[T]:
        """The records (with `content_hash` and `line_no`) whose key this file has not used before, now remembered;
        a later use with the same content is `unchanged`, with other content a `clash` naming the first line."""
        earlier = self.lookup([key(r) for r in records])
        first: list[T] = []
        for record in records:
            name = key(record)
            if name in earlier:
                digest, line = earlier[name]
                if digest == record.content_hash:  # type: ignore[attr-defined]
                    unchanged(record)
                else:
                    clash(record, line)
                continue
            earlier[name] = (record.content_hash, record.line_no)  # type: ignore[attr-defined]
            first.append(record)
        self.add([(key(r), r.content_hash, r.line_no) for r in first])  # type: ignore[attr-defined]
        return first

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.name}")
