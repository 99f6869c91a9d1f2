"""Pagination shared by pages and API: the page and its total count in one query; keyset pages and their cursors."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import InvalidPage, Page, Paginator
from django.db import models

# A page number a query may use: whole, at most nine digits (past that, OFFSET overflows a bigint).
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")


def page_number_to_read(number: str | int | None) -> int | None:
    """The page to read in the same query as its total, or None when Django's Paginator.get_page
    must decide (0, negative or huge numbers mean the last page there; a word means the first)."""
    text = "1" if number is None or number == "" else str(number)
    if PAGE_NUMBER.fullmatch(text) and int(text) >= 1:
        return int(text)
    return None if text.lstrip("-").isdigit() else 1


class TotalOf(models.Subquery):
    """COUNT(*) of a queryset as a scalar sub-select: one value the database computes once per query.

    With `up_to`, it counts no further than that (a LIMIT inside): a count that stops growing with the data.
    """

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS total_of)"
    output_field = models.IntegerField()

    def __init__(self, queryset: models.QuerySet, *, up_to: int | None = None):
        rows = queryset.order_by().values("pk")
        super().__init__(rows if up_to is None else rows[:up_to])


class TotalInPagePaginator(Paginator):
    """Reads a page and the total count in one query (COUNT(*) as a sub-select of the page's query).

    The count is taken from the queryset as given. Only an empty page past the first falls back to
    the separate COUNT(*).

    With `ids_first`, the page's ids are picked by a LIMIT sub-select of narrow rows and only those rows
    are joined and read: a page sorted on computed flags then sorts ids, not every wide joined row
    (the review board at 27,000 open cards: 53 ms instead of 133 ms).
    """

    _TOTAL = "total_in_page"

    def __init__(self, object_list, per_page, *, ids_first: bool = False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.ids_first = ids_first

    def page(self, number):
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            return super().page(number)
        if wanted < 1:
            return super().page(number)
        bottom = (wanted - 1) * self.per_page
        listed: models.QuerySet = self.object_list  # type: ignore[assignment]  # a queryset, as the class says
        rows = listed
        if self.ids_first:
            rows = rows.filter(pk__in=rows.values("pk")[bottom : bottom + self.per_page])
        rows = rows.annotate(**{self._TOTAL: TotalOf(listed)})
        read = list(rows if self.ids_first else rows[bottom : bottom + self.per_page])
        if not read and wanted == 1 and self.allow_empty_first_page:
            self.__dict__["count"] = 0  # nothing on the first page: nothing at all
            return Page([], 1, self)
        if not read:
            return super().page(number)
        self.__dict__["count"] = getattr(read[0], self._TOTAL)
        return Page(read, self.validate_number(wanted), self)


def page_of(queryset: models.QuerySet, number: str | int | None, per_page: int) -> Page:
    """The page a page view shows: its rows and the total in one query; a bad or too-high number
    gets the first or last page, as Paginator.get_page does (those rare cases pay a COUNT of their own).
    """
    paginator = TotalInPagePaginator(queryset, per_page, ids_first=True)
    wanted = page_number_to_read(number)
    if wanted is None:
        return paginator.get_page(number)
    try:
        return paginator.page(wanted)
    except InvalidPage:
        return paginator.get_page(number)


# --- keyset (cursor) pages: WHERE (order key) > (the last row's key) ... LIMIT n, on an index --------------------


def total_order(ordering: Sequence[str | Any]) -> tuple[str, ...] | None:
    """`ordering` (a queryset's order_by) made total with the id as the last key, in the direction of the
    key before it; None when a term is not a plain field name (an expression: no keyset over it)."""
    if not all(isinstance(term, str) and term.lstrip("-") and "?" not in term for term in ordering):
        return None
    terms = tuple(term.replace("pk", "id") if term.lstrip("-") == "pk" else term for term in ordering)
    if any(term.lstrip("-") == "id" for term in terms):
        return terms[: [term.lstrip("-") for term in terms].index("id") + 1]  # nothing after a unique key
    last_descends = bool(terms) and terms[-1].startswith("-")
    return (*terms, "-id" if last_descends else "id")


def field_at(model: type[models.Model], path: str) -> models.Field | None:
    """The model field a `values_list`/`order_by` path names (`meeting__starts_at`), or None when the path
    may hold NULL on some row (a nullable field, or through a nullable relation): no keyset over it."""
    field: Any = None
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if getattr(field, "null", True) or not field.concrete:
            return None
        model = field.related_model or model
    if field is None or field.is_relation:  # ordering by a relation orders by its model's Meta.ordering
        return None
    return field


def keyset_fields(model: type[models.Model], order: Sequence[str]) -> tuple[models.Field, ...] | None:
    """The field of each key of a total order, or None when a key may be NULL (no keyset then)."""
    fields = tuple(field_at(model, term.lstrip("-")) for term in order)
    return None if any(field is None for field in fields) else fields  # type: ignore[return-value]


class RowCompare(models.Expression):
    """`(a, b, ...) > (x, y, ...)` (or <): a row-value comparison, which PostgreSQL answers with one
    range scan of an index on (a, b, ...) — the keyset condition when every key goes the same way."""

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, columns: Sequence[Any], values: Sequence[Any], operator: str):
        super().__init__()
        self.columns, self.values, self.operator = list(columns), list(values), operator

    def get_source_expressions(self) -> list:
        return [*self.columns, *self.values]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.columns, self.values = list(exprs[: len(self.columns)]), list(exprs[len(self.columns) :])

    def as_sql(self, compiler, connection):
        sides, params = [], []
        for side in (self.columns, self.values):
            parts = []
            for expression in side:
                sql, more = compiler.compile(expression)
                parts.append(sql)
                params.extend(more)
            sides.append(", ".join(parts))
        return f"({sides[0]}) {self.operator} ({sides[1]})", params


def after_key(order: Sequence[str], fields: Sequence[models.Field], values: Sequence[Any]) -> Any:
    """The condition "this row comes after the row whose order key is `values`" in the total `order`.

    Every key the same way: one row-value comparison (an index range). Mixed ways: the first key's range
    (`a >= x`, an index bound) and the lexicographic comparison of the rest.
    """
    names = [term.lstrip("-") for term in order]
    typed = [models.Value(value, output_field=field) for value, field in zip(values, fields, strict=True)]
    descending = [term.startswith("-") for term in order]
    if len(set(descending)) == 1:
        return RowCompare([models.F(name) for name in names], typed, "<" if descending[0] else ">")
    beyond = models.Q()
    for name, value, down in reversed(list(zip(names, values, descending, strict=True))):
        past = models.Q(**{f"{name}__{'lt' if down else 'gt'}": value})
        beyond = past if not beyond else past | (models.Q(**{name: value}) & beyond)
    return models.Q(**{f"{names[0]}__{'lte' if descending[0] else 'gte'}": values[0]}) & beyond


def reversed_order(order: Sequence[str]) -> tuple[str, ...]:
    return tuple(term[1:] if term.startswith("-") else f"-{term}" for term in order)


def keyset_slice(
    queryset: models.QuerySet, order: Sequence[str], values: Sequence[Any] | None, *, backwards: bool, size: int
) -> models.QuerySet:
    """The `size` + 1 rows after (`backwards`: before, nearest first) the row keyed `values` (None: from the
    start) in the total `order`: the extra row says whether there is more that way."""
    fields = keyset_fields(queryset.model, order)
    if fields is None:
        raise ValueError(f"No keyset over {order}: a key may be NULL.")
    way = reversed_order(order) if backwards else tuple(order)
    if values is not None:
        queryset = queryset.filter(after_key(way, fields, values))
    return queryset.order_by(*way)[: size + 1]


# --- cursors: a keyset position as an opaque, signed token, for a page's next and previous links ----------------

# The salt of the cursors' first home (the API): changing it would void the links in use.
_SALT = "core.api.pagination.cursor"
# The longest cursor made here: a key of a 200-character text (a card's title, an agency's name) of control
# characters (JSON writes each as a 6-character escape; a 4-byte character takes 4), an id and a page number,
# ~1,710 characters (tests/test_pagination.py makes it); anything longer was not made here.
MAX_CURSOR = 2000


class _Utf8Json:
    """JSON as UTF-8 in the signed payload: Django's serializer writes a non-ASCII character as a 6 or 12
    character escape, and a key of 200 such made a cursor longer than a link should be. ASCII is written as
    before, and an escape still reads, so the links already made stay good."""

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data.decode())


class BadCursor(ValueError):
    """A cursor not made here for this list in this order (tampered, for another ordering, or unreadable)."""

    def __init__(self, message: str = "This cursor is not valid: follow the list's next or previous link.") -> None:
        super().__init__(message)


def _signer(model: type[models.Model]) -> signing.Signer:
    """Signs a list's cursors (no time stamp: the same place is always the same link)."""
    return signing.Signer(salt=f"{_SALT}:{model._meta.label}")


@dataclass(frozen=True)
class Position:
    """Where a cursor page starts: after (`backwards`: before) the row whose order key is `values`.

    `number`: the page's number, for a page that shows it (the API's cursors carry none)."""

    order: tuple[str, ...]
    values: tuple[Any, ...]
    backwards: bool = False
    number: int | None = None

    def token(self, model: type[models.Model]) -> str:
        """Opaque and signed: the order it was made for, the key's values as text, the way (and number)."""
        values = [value.isoformat() if isinstance(value, datetime.date) else value for value in self.values]
        made = [list(self.order), values, int(self.backwards)]
        return _signer(model).sign_object(made if self.number is None else [*made, self.number], _Utf8Json)

    @classmethod
    def of(cls, token: str, model: type[models.Model], order: tuple[str, ...], *, numbered: bool = False) -> Position:
        """The position a cursor names, for a list of `model` in the total `order`, with a page number if
        `numbered` (a page's link) or without (the API's); BadCursor for anything else."""
        if len(token) > MAX_CURSOR:
            raise BadCursor()
        try:
            made_for, values, backwards, number = _unpacked(_signer(model).unsign_object(token, _Utf8Json), numbered)
        except (signing.BadSignature, ValueError, TypeError) as exc:
            raise BadCursor() from exc
        if made_for != order:
            raise BadCursor("This cursor was made for another ordering: start again from the first page.")
        fields = keyset_fields(model, order)
        if fields is None or len(values) != len(fields):
            raise BadCursor()
        try:
            typed = tuple(field.to_python(value) for field, value in zip(fields, values, strict=True))
        except Exception as exc:  # a field's own conversion error (ValidationError and kin)
            raise BadCursor() from exc
        return cls(order, typed, backwards, number)


def _unpacked(made: Any, numbered: bool) -> tuple[tuple[str, ...], list[Any], bool, int | None]:
    """A signed cursor's parts, each of the shape Position.token writes (ValueError otherwise)."""
    if not (isinstance(made, list) and len(made) == (4 if numbered else 3)):
        raise ValueError("not a cursor of this kind")
    made_for, values, backwards, *number = made
    if not (isinstance(made_for, list) and all(isinstance(term, str) for term in made_for)):
        raise ValueError("not an order")
    if not (isinstance(values, list) and backwards in (0, 1) and type(backwards) is int):
        raise ValueError("not a key and a way")
    if number and not (type(number[0]) is int and number[0] >= 1):
        raise ValueError("not a page number")
    return tuple(made_for), values, bool(backwards), number[0] if number else None


def key_of(item: Any, order: Sequence[str]) -> tuple[Any, ...]:
    """An instance's order key (`meeting__starts_at` read through the relation)."""
    key = []
    for term in order:
        value = item
        for part in term.lstrip("-").split("__"):
            value = getattr(value, part)
        key.append(value)
    return tuple(key)


# --- a page of a long list: its rows, its place, and links that cost what page 1 costs -------------------------

# Up to this many rows a list says exactly how many there are; past it, "more than" that.
LIST_EXACT_UP_TO = 1000


@dataclass(frozen=True)
class ListPage:
    """A page of a long list, its number and whether a next page exists; the total is exact up to
    `exact_up_to` and otherwise only known to be larger (see list_page)."""

    object_list: list[Any]
    number: int
    per_page: int
    total: int
    has_next: bool
    exact_up_to: int = LIST_EXACT_UP_TO
    # The next and previous pages' cursors ("": a link by page number); a cursor that was refused.
    next_cursor: str = ""
    previous_cursor: str = ""
    cursor_refused: bool = False

    @property
    def total_is_exact(self) -> bool:
        return self.total <= self.exact_up_to

    @property
    def num_pages(self) -> int | None:
        """The number of pages when the total is exact, else None."""
        return max(1, -(-self.total // self.per_page)) if self.total_is_exact else None

    @property
    def paginator(self) -> ListPage:
        """As a Django Page has one: templates ask page.paginator.num_pages."""
        return self

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        """The 1-based position of the page's first item in the list (as Django's Page)."""
        return (self.number - 1) * self.per_page + 1

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def list_page(
    queryset: models.QuerySet,
    page_number: str | None,
    per_page: int,
    *,
    cursor: str | None = None,
    exact_up_to: int = LIST_EXACT_UP_TO,
) -> ListPage:
    """Page `page_number` of `queryset` (ordered by an index), or the page a `cursor` names, in one query.

    The page's ids (and one more, to know there is more that way) are read from the index and only those rows
    are joined and read; the total is counted no further than `exact_up_to` + 1. A page number reads the ids
    by OFFSET, so a jump to a deep page costs more the deeper it is; the page's own next and previous links
    carry cursors (the order key of its last or first row: WHERE (key) < (that key) ... LIMIT, on the index),
    so a page reached by them costs what page 1 costs at any depth. The order must be over fields that are
    never NULL; otherwise the links keep page numbers.

    A number that is no page number reads the first page; a page past the end is empty (and its total 0);
    a cursor not made for this list reads the first page, marked `cursor_refused`.
    """
    order = total_order(queryset.query.order_by)
    if order is None or keyset_fields(queryset.model, order) is None:
        order = None
    position, refused = None, False
    if cursor and order:
        try:
            position = Position.of(cursor, queryset.model, order, numbered=True)
        except BadCursor:
            refused = True
    if position is None:
        number = 1 if refused else page_number_to_read(page_number) or 1
        bottom = (number - 1) * per_page
        ids = queryset.values("pk")[bottom : bottom + per_page + 1]
    else:
        assert order is not None and position.number is not None
        number = position.number
        ids = keyset_slice(queryset.values("pk"), order, position.values, backwards=position.backwards, size=per_page)
    rows = list(queryset.filter(pk__in=ids).annotate(total_up_to=TotalOf(queryset, up_to=exact_up_to + 1)))
    more = len(rows) > per_page  # one row past the page, the way it was read
    if position is None:
        more_before, more_after = number > 1, more
        rows = rows[:per_page]
    else:
        more_before, more_after = (True, True) if position.backwards else (True, more)
        if position.backwards and not more:  # back at the start: what is there is the first page
            if len(rows) < per_page:  # less than a page (rows gone since): the first page, full
                return list_page(queryset, "1", per_page, exact_up_to=exact_up_to)
            number, more_before = 1, False
        rows = rows[-per_page:] if position.backwards else rows[:per_page]
    counted = rows[0].total_up_to if rows else 0
    links = _links(queryset.model, order, rows, number, more_before, more_after) if order and rows else {}
    return ListPage(rows, number, per_page, counted, more_after, exact_up_to, cursor_refused=refused, **links)


def _links(
    model: type[models.Model], order: tuple[str, ...], rows: list, number: int, before: bool, after: bool
) -> dict[str, str]:
    """The cursors of page `number`'s next and previous links, where there is a page that way."""
    links: dict[str, str] = {}
    if after:
        links["next_cursor"] = Position(order, key_of(rows[-1], order), False, number + 1).token(model)
    if before and number > 2:  # page 1's link is its plain address
        links["previous_cursor"] = Position(order, key_of(rows[0], order), True, number - 1).token(model)
    return links
