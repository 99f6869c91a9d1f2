"""The row writer (core.api.rows) writes what DRF's own fields write, from rows and from instances.

The serializers declare every field once, for the schema and for the writer; these tests serialize
the same objects the generic DRF way (ModelSerializer.to_representation, field by field) and
compare, through the list, the detail and the action endpoints, so the fast path can never drift.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from challenge_cards.api.serializers import CardUpdateSerializer, ChallengeCardSerializer, FollowUpActionSerializer
from challenge_cards.models import (
    ActionOwnerSide,
    ActionStatus,
    CardStatus,
    CardUpdate,
    ChallengeCard,
    Disposition,
    FollowUpAction,
    Rating,
)
from tests import factories
from tests.api.conftest import client_for


def _drf_action(action) -> dict:
    return serializers.ModelSerializer.to_representation(FollowUpActionSerializer(), action)


def _drf_card(card: ChallengeCard) -> dict:
    """DRF's field-by-field output, the nested actions each the DRF way too."""
    serializer = ChallengeCardSerializer()
    serializer.fields.pop("actions")
    data = dict(serializers.ModelSerializer.to_representation(serializer, card))
    data["actions"] = [_drf_action(action) for action in card.actions.select_related("owner", "card")]
    return data


def _varied_card(world) -> ChallengeCard:
    """A card exercising every kind of value: decimals, nulls, ratings, a past due date, owners by name and account."""
    card = world["own_card"]
    card.metric_baseline = Decimal("12.5")
    card.metric_value = Decimal("0")
    card.agency_rating = Rating.GREEN
    card.status = CardStatus.IN_PROGRESS
    card.due_date = timezone.localdate() - datetime.timedelta(days=3)
    card.last_agency_update_at = timezone.now().replace(microsecond=123456)
    card.save()
    owner = world["users"]["delegate"]
    factories.FollowUpActionFactory(card=card, owner=owner, owned_by=ActionOwnerSide.AGENCY, due_date=None)
    factories.FollowUpActionFactory(
        card=card, owner=world["users"]["omb_admin"], owned_by=ActionOwnerSide.OMB, due_date=card.due_date
    )
    factories.FollowUpActionFactory(
        card=card, owner_name="", status=ActionStatus.DONE, completed_at=timezone.now(), due_date=card.due_date
    )
    factories.FollowUpActionFactory(card=card, status=ActionStatus.DROPPED, dropped_reason="Superseded.")
    return ChallengeCard.objects.get(pk=card.pk)


def test_card_list_and_detail_equal_drf_fields(world):
    card = _varied_card(world)
    expected = _drf_card(card)
    assert len(expected["actions"]) == 5
    client = client_for(world["users"]["deputy"])
    listed = {row["id"]: row for row in client.get("/api/v1/cards/").json()["results"]}
    assert listed[card.pk] == expected
    assert client.get(f"/api/v1/cards/{card.pk}/").json() == expected


def test_action_endpoint_equals_drf_fields(world):
    card = _varied_card(world)
    client = client_for(world["users"]["omb_admin"])
    for action in card.actions.select_related("owner", "card"):
        assert client.get(f"/api/v1/actions/{action.pk}/").json() == _drf_action(action)
    listed = client.get("/api/v1/actions/", {"page_size": 200}).json()["results"]
    assert [row for row in listed if row["card"] == card.pk] == [
        _drf_action(action) for action in card.actions.select_related("owner", "card").order_by("due_date", "id")
    ]


def test_rendered_bytes_match_drf_json(world):
    """The orjson renderer writes what DRF's JSONRenderer would, byte for byte, for a card page."""
    from rest_framework.renderers import JSONRenderer

    card = _varied_card(world)
    card.title = "Hire \u2028 data scientists — ü"
    card.save()
    response = client_for(world["users"]["deputy"]).get("/api/v1/cards/")
    assert response.content == JSONRenderer().render(response.json())
    assert b"\\u2028" in response.content


def _drf_update(update: CardUpdate) -> dict:
    """DRF's field-by-field output of a history entry; the names as User.get_full_name() or the username."""
    serializer = CardUpdateSerializer()
    for name in ("author_name", "on_behalf_of_name"):
        serializer.fields.pop(name)
    data = dict(serializers.ModelSerializer.to_representation(serializer, update))
    for name, user in (("author_name", update.author), ("on_behalf_of_name", update.on_behalf_of)):
        data[name] = None if user is None else user.get_full_name() or user.username
    return data


@pytest.mark.parametrize("poster", ["deputy", "delegate"])
def test_a_posted_updates_answer_and_the_history_equal_drf_fields(world, poster):
    """The update's answer is written from the locked read's rows (selectors.card_for_update): the card as the
    detail shows it after the change, with its actions, and the history entry as DRF writes it."""
    card = _varied_card(world)
    world["users"]["deputy"].first_name = ""  # a deputy without a name is shown by username
    world["users"]["deputy"].save()
    client = client_for(world["users"][poster])
    etag = client.get(f"/api/v1/cards/{card.pk}/")["ETag"]
    answer = client.post(
        f"/api/v1/cards/{card.pk}/updates/",
        {"status": "at_risk", "agency_rating": "red", "note": "Hiring froze."},
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert answer.status_code == 201, answer.content
    update = CardUpdate.objects.select_related("author", "on_behalf_of").get(card=card, kind="update")
    assert (update.on_behalf_of is not None) == (poster == "delegate")
    card = ChallengeCard.objects.get(pk=card.pk)
    assert answer.json() == {"update": _drf_update(update), "card": _drf_card(card)}
    assert list(answer.json()["update"]) == CardUpdateSerializer.Meta.fields
    assert answer.json()["card"] == client.get(f"/api/v1/cards/{card.pk}/").json()
    assert answer["ETag"] == f'W/"card-{card.pk}-v{card.version}"'
    history = client.get(f"/api/v1/cards/{card.pk}/updates/").json()["results"]
    entries = CardUpdate.objects.filter(card=card).select_related("author", "on_behalf_of")
    assert {row["id"]: row for row in history} == {entry.pk: _drf_update(entry) for entry in entries}


# --- the list's row path (selectors.card_list_page) against the instance path, for every shape of data -----------

UTC = datetime.UTC
KOLKATA = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
PACIFIC = datetime.timezone(datetime.timedelta(hours=-8))


def _ordered_json(value) -> str:
    """Key order counts: the same values in another order are another output."""
    return json.dumps(value, ensure_ascii=False)


def _shapes(world) -> list[ChallengeCard]:
    """Cards of every shape in the deputy's agency, with times stored from different zones."""
    agency, meeting, priority = world["agency"], world["meeting"], world["priority"]
    today = timezone.localdate()
    varied = _varied_card(world)
    unnamed = factories.UserFactory(username="no.name", first_name="", last_name="")
    padded = factories.UserFactory(username="padded", first_name="\u00a0Ann ", last_name=" Lee\u3000")
    quiet = factories.ChallengeCardFactory(  # no actions, no metric values, not overdue
        agency=agency,
        meeting=meeting,
        priority=priority,
        title='Quotes " and \\ and\nlines \u2028 \x1f 🙂',
        due_date=today + datetime.timedelta(days=30),
        metric_baseline=None,
        metric_target=None,
    )
    done_late = factories.ChallengeCardFactory(  # past due but done: not overdue
        agency=agency,
        meeting=meeting,
        priority=priority,
        status=CardStatus.DONE,
        omb_rating=Rating.RED,
        due_date=today - datetime.timedelta(days=1),
        metric_name="Dollars",
        metric_baseline=Decimal("-1234567890.5"),
        metric_target=Decimal("999999999999.99"),
        metric_value=Decimal("0.10"),
    )
    dropped_late = factories.ChallengeCardFactory(  # past due but dropped: not overdue
        agency=agency,
        meeting=meeting,
        priority=priority,
        disposition=Disposition.DROPPED,
        disposition_reason="Overtaken by the budget.",
        due_date=today - datetime.timedelta(days=9),
    )
    factories.FollowUpActionFactory(card=done_late, owner=unnamed, owner_name="")
    factories.FollowUpActionFactory(card=done_late, owner=padded, owned_by=ActionOwnerSide.OMB, due_date=None)
    factories.FollowUpActionFactory(card=dropped_late, owner_name="", due_date=today - datetime.timedelta(days=2))
    factories.FollowUpActionFactory(card=dropped_late, due_date=today)  # due today: not overdue yet
    # Stored times from several zones, with and without microseconds, either side of a DST change.
    moments = [
        datetime.datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),
        datetime.datetime(2026, 3, 8, 7, 0, 0, 1, tzinfo=UTC),
        datetime.datetime(2026, 11, 1, 1, 30, tzinfo=PACIFIC),
        datetime.datetime(2026, 7, 4, 12, 0, 0, 500000, tzinfo=KOLKATA),
    ]
    cards = [varied, quiet, done_late, dropped_late]
    for index, card in enumerate(cards):
        ChallengeCard.objects.filter(pk=card.pk).update(
            issued_at=moments[index], updated_at=moments[-1 - index], last_agency_update_at=moments[index - 1]
        )
        for offset, action in enumerate(FollowUpAction.objects.filter(card=card)):
            FollowUpAction.objects.filter(pk=action.pk).update(
                created_at=moments[(index + offset) % 4], updated_at=moments[(index + offset + 1) % 4]
            )
    return [ChallengeCard.objects.get(pk=card.pk) for card in cards]


@pytest.mark.parametrize("zone", ["America/New_York", "UTC", "Asia/Kolkata"])
def test_card_list_rows_equal_the_instance_path_for_every_shape(world, settings, zone):
    """The list (rows, selectors.card_list_page) equals DRF's fields and the detail endpoint (instances), in order."""
    settings.TIME_ZONE = zone
    cards = _shapes(world)
    client = client_for(world["users"]["deputy"])
    listed = client.get("/api/v1/cards/", {"page_size": 200}).json()
    visible = ChallengeCard.objects.filter(agency=world["agency"]).order_by("due_date", "id")
    assert [row["id"] for row in listed["results"]] == list(visible.values_list("id", flat=True))
    assert listed["count"] == visible.count() == len(cards)  # the first is the world's own card
    by_id = {row["id"]: row for row in listed["results"]}
    for card in cards:
        assert _ordered_json(by_id[card.pk]) == _ordered_json(_drf_card(card))
        assert _ordered_json(by_id[card.pk]) == _ordered_json(client.get(f"/api/v1/cards/{card.pk}/").json())
    shown = {action["owner_display"] for row in listed["results"] for action in row["actions"]}
    assert {"no.name", "Ann   Lee", "Unassigned"} <= shown
    overdue = {row["id"]: row["is_overdue"] for row in listed["results"]}
    assert overdue[cards[0].pk] and not any(overdue[card.pk] for card in cards[1:])
    assert cards[1].pk in by_id and by_id[cards[1].pk]["actions"] == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "done"}, lambda cards: ChallengeCard.objects.filter(status=CardStatus.DONE)),
        ({"overdue": "true"}, lambda cards: ChallengeCard.objects.overdue()),
        ({"overdue": "false"}, lambda cards: ChallengeCard.objects.exclude(pk__in=ChallengeCard.objects.overdue())),
        ({"search": "quotes"}, lambda cards: ChallengeCard.objects.filter(title__icontains="quotes")),
        ({"ordering": "-title"}, lambda cards: ChallengeCard.objects.order_by("-title")),
        ({"page_size": 2, "page": 2}, lambda cards: ChallengeCard.objects.all()[2:4]),
        ({"page_size": 2, "page": 4}, lambda cards: ChallengeCard.objects.all()[6:8]),
    ],
)
def test_card_list_rows_with_filters_search_and_later_pages(world, params, expected):
    """An OMB admin's filtered, searched, re-ordered and later pages: the same cards, each as DRF writes it."""
    cards = _shapes(world)
    factories.ChallengeCardFactory.create_batch(2, agency=world["other_agency"], meeting=world["meeting"])
    body = client_for(world["users"]["omb_admin"]).get("/api/v1/cards/", params).json()
    wanted = list(expected(cards))
    assert [row["id"] for row in body["results"]] == [card.pk for card in wanted]
    assert _ordered_json(body["results"]) == _ordered_json([_drf_card(card) for card in wanted])
    if "page" in params:
        assert body["count"] == ChallengeCard.objects.count() == 7
        assert body["previous"].endswith(f"page={params['page'] - 1}&page_size=2") or body["previous"].endswith(
            "?page_size=2"
        )
        assert (body["next"] is None) == (params["page"] == 4)


def test_card_list_empty_and_past_the_end(world):
    client = client_for(world["users"]["deputy"])
    empty = client.get("/api/v1/cards/", {"search": "nothing matches this"}).json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}
    assert client.get("/api/v1/cards/", {"page": 2}).status_code == 404
    assert client.get("/api/v1/cards/", {"page": 0}).status_code == 400
    no_role = client_for(factories.UserFactory()).get("/api/v1/cards/").json()
    assert no_role["count"] == 0 and no_role["results"] == []


def test_indented_card_list_is_drf_json(world):
    """Accept: application/json; indent=4 falls back to DRF's renderer, with the same values."""
    _shapes(world)
    client = client_for(world["users"]["deputy"])
    plain = client.get("/api/v1/cards/").json()
    indented = client.get("/api/v1/cards/", HTTP_ACCEPT="application/json; indent=4")
    assert indented.content.startswith(b"{\n    ")
    assert _ordered_json(json.loads(indented.content)) == _ordered_json(plain)


def test_the_row_columns_come_from_the_declared_fields():
    """One declaration: every declared field is written, and the rows read exactly the columns it needs."""
    assert (
        list(ChallengeCardSerializer.row_writer().write(ChallengeCardSerializer.row_of(_blank_card()), [], _clock()))
        == ChallengeCardSerializer.Meta.fields
    )
    columns = ChallengeCardSerializer.row_columns()
    assert columns[:4] == ("id", "meeting_id", "agency_id", "agency__abbreviation")
    assert "priority__number" in columns and "actions" not in columns
    assert len(columns) == len(set(columns))
    action_columns = FollowUpActionSerializer.row_columns()
    assert {"card_id", "card__agency_id", "owner__username", "owner_name"} <= set(action_columns)


def _blank_card() -> ChallengeCard:
    from agencies.models import Agency
    from challenge_cards.models import Meeting, PmaPriority

    return ChallengeCard(
        pk=1, agency=Agency(abbreviation="X"), priority=PmaPriority(number=1), meeting=Meeting(),
        due_date=datetime.date(2026, 1, 1), version=1,
    )  # fmt: skip


def _clock():
    from core.api.rows import Clock

    return Clock()


def test_the_list_reads_its_actions_without_joining_the_cards_again_for_omb(world):
    """Each nested action's agency is its card's, taken from the page's card rows: an OMB admin's actions
    query joins no card (a deputy's still does, to scope the actions), and every action still says it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for who, joins in (("omb_admin", False), ("deputy", True)):
        with CaptureQueriesContext(connection) as captured:
            response = client_for(world["users"][who]).get("/api/v1/cards/")
        assert response.status_code == 200
        actions_sql = next(q["sql"] for q in captured if q["sql"].startswith('SELECT "challenge_cards_followupaction"'))
        assert ('JOIN "challenge_cards_challengecard"' in actions_sql) is joins
        for card in response.json()["results"]:
            assert card["actions"] and {action["agency"] for action in card["actions"]} == {card["agency"]}
