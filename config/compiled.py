"""Reads that every request makes, compiled once per database connection and kept.

The ORM compiles a queryset's SQL each time it runs it. For the two reads every page and API
request makes (the API token, the user's roles) compiling cost more than running them: about
4 ms of a request on these machines. A CompiledRead keeps the SQL, and the compiler for its
converters (SQLite's dates come back as text without them), with one value left open: the slot.
"""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet


class CompiledRead:
    def __init__(self, model: type[Model], build: Callable[[Any], QuerySet], *, slot: Any):
        """`build(value)` gives the queryset for one value; it is called once, with `slot`, a value
        no caller ever passes, which marks where the real value goes among the SQL's parameters."""
        self.model = model
        self._build = build
        self._slot = slot
        self._by_connection: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def rows(self, value: Any) -> list[tuple]:
        """The queryset's rows for this value (what `list(build(value))` gives), in one query."""
        connection = connections[router.db_for_read(self.model)]
        compiled = self._by_connection.get(connection)
        if compiled is None:
            compiler = self._build(self._slot).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            again = self._build(self._slot).query.get_compiler(connection=connection).as_sql()
            if again != (sql, params) or any(isinstance(param, datetime.date) for param in params):
                # A time or date in the kept SQL would stay the moment it was compiled.
                raise ValueError(f"{self.model.__name__}: a compiled read may depend on its slot only, not a date.")
            compiled = self._by_connection[connection] = (compiler, sql, tuple(params))
        compiler, sql, params = compiled
        with connection.cursor() as cursor:
            cursor.execute(sql, [value if param == self._slot else param for param in params])
            fetched = cursor.fetchall()
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))
