"""core.db.compiled: SQL compiled once answers each value with its own rows, and a date is never kept."""

import gc
import weakref

import pytest
from django.db import connections
from django.utils import timezone

from agencies.models import Agency
from core.db.compiled import CompiledRead, CompiledSql
from tests import factories


def test_each_call_reads_its_own_value_from_the_kept_sql(db):
    treasury = factories.AgencyFactory(name="Treasury", abbreviation="TRS")
    labor = factories.AgencyFactory(name="Labor", abbreviation="DOL")
    by_abbreviation = CompiledRead(
        Agency,
        lambda abbreviation: Agency.objects.filter(abbreviation=abbreviation).values_list("pk", "name"),
        slot="\x00",
    )
    assert by_abbreviation.rows("TRS") == [(treasury.pk, "Treasury")]
    assert by_abbreviation.rows("DOL") == [(labor.pk, "Labor")]
    assert by_abbreviation.rows("NONE") == []


def test_a_kept_read_converts_its_values_as_the_orm_does_on_every_call(db):
    """Django converts some columns after the database (a JSON document arrives as text); the kept read's
    converters are worked out once, at compile, and still applied to each call's rows."""
    from core.models import IdempotencyRecord

    user = factories.UserFactory()
    for key, body in (("a", {"n": 1}), ("b", [1, "two"])):
        IdempotencyRecord.objects.create(
            user=user, key=key, request_hash="h", response_body=body, expires_at=timezone.now()
        )
    body_of = CompiledRead(
        IdempotencyRecord,
        lambda key: IdempotencyRecord.objects.filter(key=key).values_list("key", "response_body"),
        slot="\x00",
    )
    for key in ("a", "b", "a"):
        expected = list(IdempotencyRecord.objects.filter(key=key).values_list("key", "response_body"))
        assert body_of.rows(key) == expected
    assert body_of.rows("b") == [("b", [1, "two"])]


def test_a_read_with_a_date_in_its_sql_is_refused(db):
    frozen = CompiledRead(
        Agency, lambda name: Agency.objects.filter(name=name, created_at__lte=timezone.now()), slot="\x00"
    )
    with pytest.raises(ValueError, match="not a date"):
        frozen.rows("Treasury")


def _ids_in(built):
    """A queryset over integer slots, counting its builds."""

    def build(ids: tuple[int, ...]):
        built.append(ids)
        return Agency.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "abbreviation")

    return build


def _rows(compiled: CompiledSql, key, build, values) -> list[tuple]:
    found = compiled.sql(connections["default"], key, build, values)
    if found is None:
        return []
    with connections["default"].cursor() as cursor:
        cursor.execute(*found)
        return cursor.fetchall()


def test_sql_kept_by_key_is_built_once_and_answers_each_call_with_its_own_values(db):
    treasury, labor, state = (factories.AgencyFactory(abbreviation=name) for name in ("TRS", "DOL", "DOS"))
    compiled, built = CompiledSql(), []
    assert _rows(compiled, "by id", _ids_in(built), [treasury.pk, labor.pk]) == [
        (treasury.pk, "TRS"),
        (labor.pk, "DOL"),
    ]
    assert _rows(compiled, "by id", _ids_in(built), [state.pk, labor.pk]) == [(labor.pk, "DOL"), (state.pk, "DOS")]
    assert len(built) == 2  # compiled twice on the first call (the check), never again
    assert all(value < 0 for ids in built for value in ids)  # built with slots, not the callers' ids


def test_without_a_key_nothing_is_kept(db):
    treasury = factories.AgencyFactory(abbreviation="TRS")
    compiled, built = CompiledSql(), []
    for _ in range(3):
        assert _rows(compiled, None, _ids_in(built), [treasury.pk]) == [(treasury.pk, "TRS")]
    assert built == [(treasury.pk,)] * 3


def test_the_least_recently_used_sql_goes_first(db):
    compiled, built = CompiledSql(keep=2), []
    for key in ("a", "b", "a", "c", "a", "b"):
        _rows(compiled, key, _ids_in(built), [1])
    # a and b are compiled (2 builds each); c pushes b out (a was used since); b is compiled again.
    assert len(built) == 2 * 4


def test_a_queryset_that_matches_nothing_sends_no_query(db, django_assert_num_queries):
    compiled = CompiledSql()
    with django_assert_num_queries(0):
        assert compiled.sql(connections["default"], "none", lambda ids: Agency.objects.none(), []) is None
        assert compiled.sql(connections["default"], "none", lambda ids: Agency.objects.none(), []) is None


def test_sql_with_a_date_or_a_missing_slot_is_refused(db):
    compiled, connection = CompiledSql(), connections["default"]
    with pytest.raises(ValueError, match="not a date"):
        compiled.sql(
            connection, "dated", lambda ids: Agency.objects.filter(pk__in=ids, created_at__lte=timezone.now()), [1]
        )
    with pytest.raises(ValueError, match="each slot"):
        compiled.sql(connection, "slotless", lambda ids: Agency.objects.filter(pk=1), [1])


def test_what_is_kept_goes_with_its_connection(db):
    """Kept SQL hangs on the connection object: a thread's connection, once dropped, is freed with it."""
    other = connections.create_connection("default")
    compiled = CompiledSql()
    assert compiled.sql(other, "by id", _ids_in([]), [1]) is not None
    dropped = weakref.ref(other)
    other.close()
    del other
    gc.collect()
    assert dropped() is None


@pytest.mark.postgresql
def test_a_keyset_page_keeps_its_sql_with_its_key_values_in_slots_of_their_types(db):
    """Dates, times, texts and ids in slots: each call pages from its own values, the SQL built once."""
    from core.pagination import keyset_slice

    agencies = [factories.AgencyFactory(abbreviation=f"A{i}") for i in range(4)]
    compiled, built = CompiledSql(), []

    def after(values):
        built.append(values)
        listed = Agency.objects.values_list("pk", flat=True)
        return keyset_slice(listed, ("created_at", "abbreviation", "id"), values, backwards=False, size=1)

    for agency in agencies[:3]:
        key = (agency.created_at, agency.abbreviation, agency.pk)
        assert _rows(compiled, "after", after, key) == [(pk,) for pk in _next_two(agency)]
    assert len(built) == 2  # compiled twice on the first call (the check), never again
    assert all(value not in key for key in built for value in (agencies[0].created_at, "A0"))


def _next_two(agency) -> list[int]:
    later = Agency.objects.order_by("created_at", "abbreviation", "id").values_list("pk", flat=True)
    ids = list(later)
    return ids[ids.index(agency.pk) + 1 :][:2]


@pytest.mark.postgresql
def test_the_django_internals_the_kept_sql_relies_on_are_those_checked(db):
    """core.db.compiled (Query.get_compiler, SQLCompiler.as_sql, results_iter, and the converters:
    select, col_count, get_converters, apply_converters, has_composite_fields) and the card list's
    timestamptz loader (challenge_cards.selectors.cards._timestamptz_loader) use Django internals that
    are not public API, checked against Django 6.1. On an upgrade this fails: check them again (the
    tests above, and that Django's loader still only sets the zone), then move the pin."""
    import inspect

    import django
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
    from django.db.models.sql.compiler import SQLCompiler
    from psycopg import adapters
    from psycopg.pq import Format

    assert django.VERSION[:2] == (6, 1)
    assert {"results", "tuple_expected"} <= set(inspect.signature(SQLCompiler.results_iter).parameters)
    assert list(inspect.signature(SQLCompiler.get_converters).parameters) == ["self", "expressions"]
    assert list(inspect.signature(SQLCompiler.apply_converters).parameters) == ["self", "rows", "converters"]
    assert list(inspect.signature(SQLCompiler.has_composite_fields).parameters) == ["self", "expressions"]
    connection = connections["default"]
    connection.ensure_connection()
    oid = adapters.types["timestamptz"].oid
    psycopgs = adapters.get_loader(oid, Format.TEXT)  # psycopg's own (C) loader, which the list uses
    djangos = connection.connection.adapters.get_loader(oid, Format.TEXT)
    assert issubclass(djangos, BaseTzLoader) and djangos is not psycopgs  # Django's wrapper, replaced
    text = b"2026-11-30 12:34:56.789+00"
    ours, theirs = (loader(oid, connection.connection).load(text) for loader in (psycopgs, djangos))
    assert ours == theirs and ours.utcoffset() == theirs.utcoffset()  # the same instant, zone aside
