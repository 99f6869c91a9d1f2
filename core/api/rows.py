"""A serializer's declared output, written from plain database rows as well as from instances.

The API's biggest lists (a page of 50 cards nests about 250 actions) cost more to serialize field
by field than to read. A `RowSerializer` keeps DRF's declaration as the one list of a resource's
fields, for the schema and for DRF's own field-by-field output, and derives from it once:

- `row_columns()`: the `values_list` columns a row needs (a related object's id as `<name>_id`,
  a dotted source as `a__b`, a `RowField`'s columns);
- a writer function, generated from the declaration, that turns one row (and the rows of one
  nested list) into exactly what DRF would write: the same keys in the same order, dates and
  decimals as DRF writes them.

Instances (a detail, a write's answer) go through the same writer: `to_representation` reads the
columns off the instance. tests/api/test_card_output.py checks both paths against DRF's own.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.drainage import set_override
from rest_framework import serializers
from rest_framework.settings import api_settings


class Clock:
    """Today and the display time zone, read once per response (DRF reads them per field).

    A native clock leaves dates and date-times as objects (date-times in the display zone) for
    core.api.renderers.FastJSONRenderer to write in C, byte for byte as DRF writes them; a response
    asks for that with `native_dates(response)`.
    """

    def __init__(self, *, native: bool = False) -> None:
        self.today = timezone.localdate()
        self.zone = timezone.get_current_timezone()
        self.moment: Callable[[datetime.datetime | None], Any] = self._local if native else self._text
        self.day: Callable[[datetime.date | None], Any] = _same if native else _day

    def _local(self, value: datetime.datetime | None) -> datetime.datetime | None:
        return None if value is None else value.astimezone(self.zone)

    def _text(self, value: datetime.datetime | None) -> str | None:
        """As DRF's DateTimeField writes it: ISO 8601 in the current time zone, 'Z' for UTC."""
        if value is None:
            return None
        text = value.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


def _same(value: Any) -> Any:
    return value


def _day(value: datetime.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _amount(places: Decimal) -> Callable[[Decimal | None], str | None]:
    """As DRF's DecimalField writes an amount: a string with the field's decimal places."""

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else format(value.quantize(places), "f")

    return amount


class RowField(serializers.Field):
    """A read-only output value computed from a few columns of the row (or attributes of an instance).

    `function(*values)` receives the columns' values in order, then the response's Clock when
    `clock` is set. `output` is the field the schema shows.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        columns: Sequence[str],
        *,
        output: serializers.Field,
        clock: bool = False,
        **kwargs: Any,
    ) -> None:
        self.function = function
        self.columns = tuple(columns)
        self.clock = clock
        super().__init__(read_only=True, source="*", **kwargs)
        set_override(self, "field", output)  # what extend_schema_field(output) does to a class

    def to_representation(self, value: Any) -> Any:
        values = [attribute_path(value, column) for column in self.columns]
        return self.function(*values, *([Clock()] if self.clock else []))


def attribute_path(obj: Any, column: str) -> Any:
    """The value a `values_list` column names, read from an instance: `agency__abbreviation`."""
    for part in column.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def _column_of(field: serializers.Field) -> str:
    column = (field.source or "").replace(".", "__")
    return f"{column}_id" if isinstance(field, serializers.PrimaryKeyRelatedField) else column


def _coerced(field: serializers.DecimalField) -> bool:
    """Whether DRF writes this decimal as a string (its own default when the field does not say)."""
    return getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING) and not field.localize


class _Writer:
    """The generated writer of one serializer, and the columns it reads."""

    def __init__(self, serializer_class: type[RowSerializer]) -> None:
        self.columns: list[str] = []
        self.nested: dict[str, type[RowSerializer]] = {}  # a nested list's serializer, by field name
        env: dict[str, Any] = {}
        parts = []
        for name, field in serializer_class().fields.items():
            parts.append(f"{name!r}: {self._expression(name, field, env)}")
        source = "def write(row, nested, clock):\n    return {" + ", ".join(parts) + "}\n"
        exec(compile(source, f"<{serializer_class.__name__} row writer>", "exec"), env)
        self.write: Callable[[Sequence[Any], Sequence[Sequence[Any]], Clock], dict[str, Any]] = env["write"]

    def _at(self, column: str) -> str:
        if column not in self.columns:
            self.columns.append(column)
        return f"row[{self.columns.index(column)}]"

    def _expression(self, name: str, field: serializers.Field, env: dict[str, Any]) -> str:
        if isinstance(field, RowField):
            env[f"_f_{name}"] = field.function
            arguments = [self._at(column) for column in field.columns] + (["clock"] if field.clock else [])
            return f"_f_{name}({', '.join(arguments)})"
        if isinstance(field, serializers.ListSerializer):
            child = type(field.child)
            if not issubclass(child, RowSerializer) or name in self.nested:
                raise TypeError(f"{name}: only one nested list of a RowSerializer is written from rows.")
            self.nested[name] = child
            env[f"_w_{name}"] = child.row_writer().write
            return f"[_w_{name}(item, (), clock) for item in nested]"
        value = self._at(_column_of(field))
        if isinstance(field, serializers.DateTimeField):
            return f"clock.moment({value})"
        if isinstance(field, serializers.DateField):
            return f"clock.day({value})"
        if isinstance(field, serializers.DecimalField) and _coerced(field):
            env[f"_a_{name}"] = _amount(Decimal(1).scaleb(-(field.decimal_places or 0)))
            return f"_a_{name}({value})"
        if isinstance(field, serializers.UUIDField) and field.uuid_format == "hex_verbose":
            return f"(None if {value} is None else str({value}))"
        if isinstance(field, serializers.DecimalField | serializers.UUIDField | serializers.ModelField):
            raise TypeError(f"{name}: declare how rows write this field (a RowField).")
        return value


class RowSerializer(serializers.ModelSerializer):
    """A read-only ModelSerializer whose declared fields are also written from plain rows (see module doc)."""

    @classmethod
    @functools.cache
    def row_writer(cls) -> _Writer:
        return _Writer(cls)

    @classmethod
    def row_columns(cls) -> tuple[str, ...]:
        return tuple(cls.row_writer().columns)

    @classmethod
    def write_row(cls, row: Sequence[Any], nested: Sequence[Sequence[Any]], clock: Clock) -> dict[str, Any]:
        return cls.row_writer().write(row, nested, clock)

    @classmethod
    def row_of(cls, instance: Any) -> tuple[Any, ...]:
        """The instance as the row `row_columns()` reads."""
        return tuple(attribute_path(instance, column) for column in cls.row_columns())

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # Never self.fields: a ModelSerializer builds its fields anew for each instance, which cost
        # several times what writing the object does.
        writer = self.row_writer()
        nested: list[tuple[Any, ...]] = []
        for name, child_class in writer.nested.items():  # at most one
            nested = [child_class.row_of(item) for item in getattr(instance, name).all()]
        return writer.write(self.row_of(instance), nested, Clock())
