"""Reads compiled once and kept: their SQL, not their rows.

The ORM builds and compiles a queryset's SQL each time it runs it. For reads that every request
makes (the API token, the user's roles) and for the card list's page, building and compiling
cost more than running the SQL: about 4 ms for the token and roles, 7 ms for a page of cards,
on these machines. Both kinds below keep the SQL with some values left open, the slots:

- CompiledRead: one queryset shape, one slot (the token's hash, the user's id);
- CompiledSql: querysets that a caller's key fully determines (who asks, what they search, which
  page), each with slots for values (the page's card ids; a keyset page's order key: dates, times,
  texts, ids), the least recently used dropped first.

A kept SQL must not hold a date or a time but in a slot (it would stay the moment it was compiled), nor differ
between two compiles of the same queryset: both are refused with a ValueError. What is kept hangs
on the connection object itself, so it goes when the connection does (a thread's end).
"""

from __future__ import annotations

import datetime
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler


@dataclass(frozen=True)
class _Kept:
    compiler: SQLCompiler | None  # None: the queryset matches nothing (the ORM sends no query either)
    sql: str
    params: tuple
    slots_at: tuple[tuple[int, int], ...]  # (position in params, position in the values)
    # The compiler's converters for the selected columns (SQLite's dates come back as text without them),
    # worked out once: results_iter works them out again on every call, which cost more than the query.
    # None: columns of a composite key, which results_iter also joins into tuples.
    converters: dict | None = field(default_factory=dict)

    def params_for(self, values: Sequence[Any]) -> list:
        params = list(self.params)
        for at, which in self.slots_at:
            params[at] = values[which]
        return params


def _kept_on(connection, owner: object, new: Callable[[], Any]) -> Any:
    """What `owner` keeps for this connection, on the connection object: it goes with the connection."""
    kept = vars(connection).get("_config_compiled")
    if kept is None:  # not setdefault: a WeakKeyDictionary made for each call cost more than the lookup
        kept = vars(connection)["_config_compiled"] = weakref.WeakKeyDictionary()
    found = kept.get(owner)
    if found is None:
        found = kept[owner] = new()
    return found


def _sql_of(queryset: QuerySet, connection) -> tuple[SQLCompiler, str, tuple] | None:
    """The queryset's compiler, SQL and parameters; None when it matches nothing (.none(), `__in` [])."""
    compiler = queryset.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    return compiler, sql, tuple(params)


def _name(compiler: SQLCompiler) -> str:
    return getattr(compiler.query.model, "__name__", "query")


def _compile(build: Callable[[tuple], QuerySet], slots: tuple, connection) -> _Kept:
    """build(slots) compiled for keeping: twice, and refused unless both agree and hold no date."""
    compiled = _sql_of(build(slots), connection)
    if compiled is None:
        return _Kept(None, "", (), ())
    compiler, sql, params = compiled
    again = _sql_of(build(slots), connection)
    position = {slot: index for index, slot in enumerate(slots)}
    frozen = [param for param in params if isinstance(param, datetime.date) and param not in position]
    if again is None or again[1:] != (sql, params) or frozen:
        raise ValueError(f"{_name(compiler)}: compiled SQL may depend on its slots only, not a date.")
    slots_at = tuple(
        (at, position[param]) for at, param in enumerate(params) if isinstance(param, Hashable) and param in position
    )
    if {which for _, which in slots_at} != set(range(len(slots))):
        raise ValueError(f"{_name(compiler)}: each slot must be a parameter of the SQL.")
    columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = None if compiler.has_composite_fields(columns) else compiler.get_converters(columns)
    return _Kept(compiler, sql, params, slots_at, converters)


class CompiledRead:
    def __init__(self, model: type[Model], build: Callable[[Any], QuerySet], *, slot: Any):
        """`build(value)` gives the queryset for one value; it is called once, with `slot`, a value
        no caller ever passes, which marks where the real value goes among the SQL's parameters."""
        self.model = model
        self._build = build
        self._slot = slot

    def rows(self, value: Any) -> list[tuple]:
        """The queryset's rows for this value (what `list(build(value))` gives), in one query."""
        connection = connections[router.db_for_read(self.model)]
        kept = _kept_on(
            connection, self, lambda: _compile(lambda slots: self._build(slots[0]), (self._slot,), connection)
        )
        if kept.compiler is None:
            return []
        with connection.cursor() as cursor:
            cursor.execute(kept.sql, kept.params_for((value,)))
            fetched = cursor.fetchall()
        if kept.converters is None:
            return list(kept.compiler.results_iter(results=[fetched], tuple_expected=True))
        if not kept.converters:
            return [tuple(row) for row in fetched]
        return [tuple(row) for row in kept.compiler.apply_converters(fetched, kept.converters)]


# Slots for integer values: no id in this database is this negative.
_INTEGER_SLOT = -(2**62)
_FIRST_DAY = datetime.date(1, 1, 1)
_FIRST_MOMENT = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)


def _slot(value: Any, at: int) -> Any:
    """A value of `value`'s type that no caller passes, marking where the value goes in the SQL: a
    keyset page's order key (a date, a time, a text, an id) as well as ids."""
    if isinstance(value, bool):
        raise TypeError("A slot is an integer, a text, a date or a time; not a boolean.")
    if isinstance(value, int):
        return _INTEGER_SLOT - at
    if isinstance(value, str):
        return f"\x00slot {at}\x00"  # no text a request gives holds a NUL (core.api.parsers refuses it)
    if isinstance(value, datetime.datetime):
        return _FIRST_MOMENT + datetime.timedelta(microseconds=at)
    if isinstance(value, datetime.date):
        return _FIRST_DAY + datetime.timedelta(days=at)
    raise TypeError(f"A slot is an integer, a text, a date or a time; not {type(value).__name__}.")


class CompiledSql:
    """SQL kept by a key that determines the queryset, per database connection.

    The caller promises that `key` determines what `build` gives, apart from the values in the
    slots; a None key keeps nothing (a request with filters whose choices come from the data).
    """

    def __init__(self, *, keep: int = 256) -> None:
        self.keep = keep

    def sql(
        self, connection, key: Hashable | None, build: Callable[[tuple[Any, ...]], QuerySet], values: Sequence[Any] = ()
    ) -> tuple[str, list] | None:
        """The SQL and parameters of build(values), or None when it matches nothing.

        `build` is given the values (key None) or as many slots as there are values, each of its value's
        type (integers, texts, dates, times): the key must determine the values' types.
        """
        if key is None:
            compiled = _sql_of(build(tuple(values)), connection)
            return None if compiled is None else (compiled[1], list(compiled[2]))
        kept_here: OrderedDict = _kept_on(connection, self, OrderedDict)
        kept = kept_here.get(key)
        if kept is None:
            kept = kept_here[key] = _compile(build, tuple(_slot(v, i) for i, v in enumerate(values)), connection)
            if len(kept_here) > self.keep:
                kept_here.popitem(last=False)
        else:
            kept_here.move_to_end(key)
        return None if kept.compiler is None else (kept.sql, kept.params_for(values))
