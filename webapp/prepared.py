"""Querysets compiled once per process, for the reads that run on every request of the annotation cycle.

Django builds and compiles a queryset's SQL afresh each time it is evaluated; for the cycle's small reads with many
joins and subqueries that costs more CPU than the database spends on them (about two thirds of a cycle's CPU was
the ORM building and compiling). A `PreparedQuery` builds its queryset once with marker values in place of the
values that change from call to call, compiles it, and from then on runs the stored SQL with each call's values put
where the markers were. Rows go through Django's own iterable for the queryset (instances, `select_related`,
annotations, values lists, the fields' converters), so what a call returns is what the ORM would have returned.

Two rules keep the stored SQL honest. Whatever changes the SQL's shape (a role, an optional filter, a flag) is the
`shape` argument, the cache key, never a value. And a parameter must be a marker or a constant of the query: one
computed from a value (say `now + grace`) would be stored as a constant, so the queryset is built and compiled twice,
with two sets of markers, and refused unless the SQL and every parameter that is not a marker agree. Markers are
found among the compiled parameters, so this needs a backend that passes values to the driver as they are
(PostgreSQL); elsewhere (`connection.vendor` other than "postgresql") the queryset is built each time."""

import copy
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from django.db import connection, connections
from django.db.models import Model, QuerySet, Value
from django.db.models.sql.compiler import SQLCompiler

Build = Callable[..., QuerySet]
_MARKER_BASE = 2_000_000_000  # inside every integer column's range (Django drops out-of-range lookups), never an id


class PreparedQuery:
    """`build(shape, **values)` returns the queryset; `rows`, `first` and `exists` evaluate it like `list(qs)`,
    `qs.first()` and `qs.exists()`.
    A value is an int, a str, an aware datetime or a model instance (its primary key is the parameter)."""

    def __init__(self, build: Build) -> None:
        self._build = build
        self._compiled: dict[tuple[str, Hashable], _Compiled] = {}

    def rows(self, shape: Hashable = (), **values: Any) -> list:
        return self._run("rows", shape, values)

    def first(self, shape: Hashable = (), **values: Any) -> Any:
        rows = self._run("first", shape, values)
        return rows[0] if rows else None

    def exists(self, shape: Hashable = (), **values: Any) -> bool:
        return bool(self._run("exists", shape, values))

    def _queryset(self, how: str, shape: Hashable, values: dict[str, Any]) -> QuerySet:
        queryset = self._build(shape, **values)
        if how == "first":
            return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]
        if how == "exists":  # what QuerySet.exists() asks: a constant, no order, one row
            return queryset.order_by().values_list(Value(1))[:1]
        return queryset

    def _run(self, how: str, shape: Hashable, values: dict[str, Any]) -> list:
        if connection.vendor != "postgresql":
            return list(self._queryset(how, shape, values))
        compiled = self._compiled.get((how, shape))
        if compiled is None:
            compiled = self._compiled[(how, shape)] = _compile(lambda v: self._queryset(how, shape, v), values)
        return compiled.run(values)


class _Compiled:
    """One shape's SQL; for each parameter the value's name and its type, or no name and the constant; and a compiled
    template whose select list and converters the rows are read with."""

    def __init__(self, queryset: QuerySet, compiler: SQLCompiler, sql: str, slots: list[tuple[str | None, Any]]):
        self.iterable_class, self.model, self.db = queryset._iterable_class, queryset.model, queryset.db
        self.fields = queryset._fields
        self.compiler, self.sql, self.slots = compiler, sql, slots
        # The select list's converters (bound to its fields and expressions; the connection is passed when applied).
        self.converters = compiler.get_converters([column for column, *_rest in compiler.select[: compiler.col_count]])

    def run(self, values: dict[str, Any]) -> list:
        params = tuple(_typed(_param(values[name]), held) if name else held for name, held in self.slots)
        compiler = copy.copy(self.compiler)
        compiler.connection = connections[self.db]  # connections are per thread
        compiler.as_sql = lambda *args, **kwargs: (self.sql, params)  # type: ignore[method-assign]
        compiler.get_converters = lambda expressions: self.converters  # type: ignore[method-assign]
        return list(self.iterable_class(_StandIn(self, compiler)))


class _StandIn:
    """What Django's row iterables read from a queryset and its query, with the compiler that runs the stored SQL."""

    _known_related_objects: dict = {}

    def __init__(self, compiled: _Compiled, compiler: SQLCompiler) -> None:
        self.db, self.model, self._fields, self._compiler = compiled.db, compiled.model, compiled.fields, compiler
        self.query = self

    def get_compiler(self, using: str | None = None, **kwargs: Any) -> SQLCompiler:
        return self._compiler


def _param(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def _plain(param: Any) -> tuple[type, Any]:
    """A parameter as a marker is recognised in it: the backend may wrap an int in a subclass (psycopg's Int4)."""
    if isinstance(param, int) and not isinstance(param, bool):
        return int, int(param)
    return type(param), param


def _typed(value: Any, kind: type) -> Any:
    """The call's value in the type its marker's parameter had (psycopg's Int4 for a positive integer, say)."""
    return value if type(value) is kind else kind(value)


def _marker(value: Any, n: int) -> Any:
    if isinstance(value, Model):
        stand_in = copy.copy(value)  # the same flags and role, another id
        stand_in.pk = _MARKER_BASE + n
        return stand_in
    if isinstance(value, bool) or not isinstance(value, int | str | datetime):
        raise TypeError(f"a prepared query's value must be an int, str, datetime or model instance, not {value!r}")
    if isinstance(value, int):
        return _MARKER_BASE + n
    if isinstance(value, str):
        return f"\x1fprepared-marker-{n}"
    return datetime(2999, 1, 1, tzinfo=UTC).replace(microsecond=n)


def _no_query(execute: Callable, sql: str, *args: Any) -> Any:
    raise ValueError(f"a prepared query's build ran a query, whose answer its stored SQL would keep: {sql}")


def _compile(build: Callable[[dict[str, Any]], QuerySet], values: dict[str, Any]) -> _Compiled:
    names = sorted(values)
    trials = []
    for offset in (1, len(names) + 1):
        markers = {name: _marker(values[name], offset + i) for i, name in enumerate(names)}
        with connection.execute_wrapper(_no_query):  # what the stored SQL holds must not depend on stored rows
            queryset = build(markers)
            if queryset._prefetch_related_lookups:
                raise ValueError("a prepared query cannot prefetch: its rows are read by one statement")
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
        found = {_plain(_param(m)): name for name, m in markers.items()}
        trials.append((queryset, compiler, sql, [(found.get(_plain(p)), p) for p in params]))
    (queryset, compiler, sql, slots), (_q, _c, other_sql, other_slots) = trials
    if sql != other_sql or [name for name, _p in slots] != [name for name, _p in other_slots]:
        raise ValueError(f"a prepared query's SQL changed with its values; put what shapes it in `shape`: {sql}")
    if any(name is None and a != b for (name, a), (_n, b) in zip(slots, other_slots, strict=True)):
        raise ValueError(f"a prepared query has a parameter computed from a value; pass it as a value: {sql}")
    unused = set(names) - {name for name, _p in slots}
    if unused:
        raise ValueError(f"a prepared query does not use {sorted(unused)}: {sql}")
    return _Compiled(queryset, compiler, sql, [(name, type(p) if name else p) for name, p in slots])
