"""The API's card list and card detail: visible cards and their follow-up actions, as plain rows, in two queries."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.db import connections, models, router
from django.db.backends.utils import CursorWrapper
from django.http import QueryDict

from agencies.models import Agency
from agencies.roles import roles_of
from core.api.filtering import is_plain_list, search_and_ordering
from core.db.compiled import CompiledSql
from core.pagination import TotalOf, keyset_slice, total_order

from ..models import ChallengeCard, FollowUpAction, PmaPriority
from ..querysets import update_fact_names

# The card list's SQL, kept per key (who asks, the search, the order, the page): see card_list_page.
_LIST_SQL = CompiledSql()
# The card detail's SQL, kept per who asks (see card_detail_row); apart, so neither pushes the other's out.
_DETAIL_SQL = CompiledSql()


@dataclass(frozen=True)
class RowPage:
    """A page of rows, each with its nested rows; the total count of rows on every page (None on a
    keyset page: it reads no count); each row's order key, for the cursors of the page's links."""

    total: int | None
    items: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]
    keys: list[tuple[Any, ...]] = field(default_factory=list)


def _timestamptz_loader():
    """psycopg's own (C) loader for timestamptz, which Django replaces with a pure-Python subclass.

    Django's loader only swaps in `datetime.timezone.utc` for the connection's UTC zone; the instant
    is the same, and core.api.rows.Clock converts to the display zone anyway. A page holds ~650
    date-times, and Django's loader cost more than everything else in reading the page.
    """
    from psycopg import adapters
    from psycopg.pq import Format

    return adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)


@contextmanager
def kept_cursor() -> Iterator[CursorWrapper | None]:
    """A cursor for several kept_rows reads in a row (a page and its actions): made, and its loader
    set, once. None off PostgreSQL, where kept_rows goes through the ORM."""
    connection = connections[router.db_for_read(ChallengeCard)]
    if connection.vendor != "postgresql":
        yield None
        return
    with connection.cursor() as made:
        made.cursor.adapters.register_loader("timestamptz", _timestamptz_loader())
        yield made


def kept_rows(
    key: Hashable | None,
    build: Callable[[tuple[Any, ...]], models.QuerySet],
    values: Sequence[Any] = (),
    kept: CompiledSql = _LIST_SQL,
    *,
    lock: bool = False,
    cursor: CursorWrapper | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of the `values_list` queryset build(values): on PostgreSQL from SQL kept by `key`
    (core.db.compiled.CompiledSql) and read with psycopg's C loaders (see _timestamptz_loader).

    Only for columns that need no Django conversion (no from_db_value); other databases go through the ORM.
    `lock`: the cards read are locked FOR UPDATE (the cards' rows only, not the rows joined to them: a
    values_list queryset cannot say select_for_update(of=...), so the clause is the backend's own, added
    to the kept SQL). In the caller's transaction; SQLite has no row locks (as select_for_update there).
    `cursor`: a kept_cursor() to read with (else one is made for this read).
    """
    if cursor is None:
        with kept_cursor() as made:
            return list(build(tuple(values))) if made is None else _read(made, key, build, values, kept, lock)
    return _read(cursor, key, build, values, kept, lock)


def _read(
    cursor: CursorWrapper,
    key: Hashable | None,
    build: Callable[[tuple[Any, ...]], models.QuerySet],
    values: Sequence[Any],
    kept: CompiledSql,
    lock: bool,
) -> list[tuple[Any, ...]]:
    connection = cursor.db
    compiled = kept.sql(connection, key, build, values)
    if compiled is None:  # the queryset matches nothing: the ORM would not ask either
        return []
    sql, params = compiled
    if lock:
        table = connection.ops.quote_name(ChallengeCard._meta.db_table)
        sql = f"{sql} {connection.ops.for_update_sql(of=[table])}"
    cursor.execute(sql, params)
    return cursor.fetchall()


def card_list_page(
    user,
    *,
    cards: models.QuerySet[ChallengeCard],
    params: QueryDict,
    size: int,
    columns: Sequence[str],
    action_columns: Sequence[str],
    number: int = 1,
    after: Sequence[Any] | None = None,
    backwards: bool = False,
    keep_as: Hashable | None = None,
) -> RowPage:
    """A page of `cards` (the visible cards, filtered and ordered by `params`), `size` a page, in the
    cards' order made total (core.pagination.total_order): page `number`, or, given the order key
    `after` of a row, the keyset page after it (`backwards`: before it) — then `size` + 1 rows are read
    (the last one only says there is more) and no count.

    One query reads the page (a page by number with its count: a COUNT(*) sub-select), one more the
    page's actions (visible to the user; `action_columns` include "card_id"). An empty page has no
    count: 0. A keyset page reads `WHERE (order key) > (after) ORDER BY ... LIMIT`, on an index.

    `keep_as` names how the caller builds `cards` from the user and `params` (its view, say): then,
    when nothing but search and ordering was asked for, the name, who asks (their roles), the search,
    the order, the columns and the page determine both queries, and their SQL is built once per such
    key (a keyset page's key values go into slots). Two callers that build `cards` differently must not
    share a name; None keeps nothing.
    """
    key: Hashable | None = None
    if keep_as is not None and is_plain_list(params):
        key = (keep_as, tuple(columns), tuple(action_columns), roles_of(user), *search_and_ordering(params))
    order = total_order(cards.query.order_by) or ("id",)
    key_names = [term.lstrip("-") for term in order]
    read = (*columns, *(name for name in dict.fromkeys(key_names) if name not in columns))
    key_at = [read.index(name) for name in key_names]
    id_at = list(columns).index("id")

    total: int | None = None
    with kept_cursor() as cursor:  # one cursor for both reads
        if after is None:
            offset = (number - 1) * size

            def numbered(_no_slots: tuple[Any, ...]) -> models.QuerySet:
                counted = cards.order_by(*order).annotate(total_in_page=TotalOf(cards))
                return counted.values_list(*read, "total_in_page")[offset : offset + size]

            rows = kept_rows(key and ("cards", key, offset, size), numbered, cursor=cursor)
            total = rows[0][-1] if rows else 0
        else:

            def keyed(values: tuple[Any, ...]) -> models.QuerySet:
                return keyset_slice(cards.values_list(*read), order, values, backwards=backwards, size=size)

            rows = kept_rows(key and ("cards", key, "keyset", backwards, size), keyed, after, cursor=cursor)
        if not rows:
            return RowPage(total, [])  # an empty page has no count: 0 (None on a keyset page)
        by_id = {row[id_at]: row for row in rows[:size]}
        nested: dict[int, list[tuple[Any, ...]]] = {card_id: [] for card_id in by_id}
        # An action's card__X column is its card's X, on the page's rows already: put in from them, not joined
        # again (for an OMB admin the join to the cards was most of the actions' query on the database).
        from_card = [
            (at, columns.index(name[6:]))
            for at, name in enumerate(action_columns)
            if name[6:] in columns and name.startswith("card__")
        ]
        action_read = [name for at, name in enumerate(action_columns) if at not in dict(from_card)]

        def page_actions(card_ids: tuple[int, ...]) -> models.QuerySet:
            visible = FollowUpAction.objects.visible_to(user).filter(card_id__in=card_ids)
            return visible.order_by("due_date", "id").values_list(*action_read)

        card_at = action_read.index("card_id")
        for action in kept_rows(key and ("actions", key, len(nested)), page_actions, list(nested), cursor=cursor):
            card_id = action[card_at]
            for at, column in from_card:
                action = (*action[:at], by_id[card_id][column], *action[at:])
            nested[card_id].append(action)
    width = len(columns)
    return RowPage(
        total,
        [(row[:width], nested.get(row[id_at], [])) for row in rows],
        [(row[key_at[0]],) for row in rows] if len(key_at) == 1 else list(map(itemgetter(*key_at), rows)),
    )


def card_detail_row(
    user, pk: int, *, columns: Sequence[str], action_columns: Sequence[str]
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]] | None:
    """Card `pk` as a row and its actions' rows by due date (both visible to the user), or None.

    The API's detail, read like the list's page: two queries whose SQL is built once per who asks
    (their roles) and columns; building it each time cost the detail more than everything else.
    """
    key = ("card detail", tuple(columns), tuple(action_columns), roles_of(user))

    def card(ids: tuple[int, ...]) -> models.QuerySet:
        return ChallengeCard.objects.visible_to(user).filter(pk=ids[0]).order_by().values_list(*columns)

    def actions(ids: tuple[int, ...]) -> models.QuerySet:
        visible = FollowUpAction.objects.visible_to(user).filter(card_id=ids[0])
        return visible.order_by("due_date", "id").values_list(*action_columns)

    with kept_cursor() as cursor:
        rows = kept_rows(("card", key), card, [pk], kept=_DETAIL_SQL, cursor=cursor)
        if not rows:
            return None
        return rows[0], kept_rows(("actions", key), actions, [pk], kept=_DETAIL_SQL, cursor=cursor)


@functools.cache
def _locked_fields() -> tuple[list[str], list[str]]:
    """The card's and its agency's columns, as model instances hold them (every concrete field)."""
    return (
        [field.attname for field in ChallengeCard._meta.concrete_fields],
        [field.attname for field in Agency._meta.concrete_fields],
    )


@dataclass(frozen=True)
class LockedCard:
    """A card read for a change: the instance (its agency, its priority's number and with_update_facts()'s
    values on it) and its actions' rows, by due date, as the detail reads them."""

    card: ChallengeCard
    actions: list[tuple[Any, ...]]


def card_for_update(user, pk: int, *, action_columns: Sequence[str]) -> LockedCard | None:
    """Card `pk` if visible to the user, locked FOR UPDATE (its row only) in the caller's transaction, with
    what an agency's update needs: its agency, its priority's number, with_update_facts(); and its actions.

    The API's posted update, read like the detail: two queries whose SQL is built once per who asks; the
    card is made from its row (Model.from_db, as the ORM makes it), with its agency and priority. Building
    and compiling the locked queryset, its annotations and its actions' prefetch each time cost more than
    the rest of the update.
    """
    key = ("card for update", tuple(action_columns), roles_of(user))
    card_fields, agency_fields = _locked_fields()
    facts = update_fact_names()

    def card(ids: tuple[int, ...]) -> models.QuerySet:
        cards = ChallengeCard.objects.visible_to(user).filter(pk=ids[0]).with_update_facts().order_by()
        agency = [f"agency__{name}" for name in agency_fields]
        return cards.values_list(*card_fields, *agency, "priority__number", *facts)

    def actions(ids: tuple[int, ...]) -> models.QuerySet:
        visible = FollowUpAction.objects.visible_to(user).filter(card_id=ids[0])
        return visible.order_by("due_date", "id").values_list(*action_columns)

    with kept_cursor() as cursor:
        rows = kept_rows(("card", key), card, [pk], kept=_DETAIL_SQL, lock=True, cursor=cursor)
        if not rows:
            return None
        action_rows = kept_rows(("actions", key), actions, [pk], kept=_DETAIL_SQL, cursor=cursor)
    row = rows[0]
    split = len(card_fields) + len(agency_fields)
    found = ChallengeCard.from_db(router.db_for_write(ChallengeCard), card_fields, row[: len(card_fields)])
    found.agency = Agency.from_db(found._state.db, agency_fields, row[len(card_fields) : split])
    found.priority = PmaPriority.from_db(found._state.db, ["id", "number"], [found.priority_id, row[split]])
    for name, value in zip(facts, row[split + 1 :], strict=True):
        setattr(found, name, json.loads(value) if isinstance(value, str) else value)
    return LockedCard(found, action_rows)
