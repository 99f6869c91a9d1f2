"""Numbers agree: the briefing packet, the review board and the scorecard count open cards by one rule
(querysets.open_card_q, ChallengeCardQuerySet.open) and each page says what it counts."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from challenge_cards import briefings, scorecard, selectors, services
from challenge_cards.models import ChallengeCard, Disposition, Meeting
from tests import factories

from .briefing_world import NOW, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def council(agency, other_agency, deputy, other_deputy, priority, admin_user):
    november = Meeting.objects.create(starts_at=at(11, 10), status=Meeting.Status.HELD)
    december = Meeting.objects.create(starts_at=at(12, 8))
    cards = [
        factories.ChallengeCardFactory(meeting=november, agency=a, priority=priority, title=f"Card {i}")
        for i, a in enumerate([agency, agency, other_agency, other_agency, agency])
    ]
    services.card_review(actor=admin_user, card=cards[0], expected_version=None, disposition=Disposition.ACCEPTED)
    services.card_review(
        actor=admin_user, card=cards[1], expected_version=None, disposition=Disposition.DROPPED, reason="Moot"
    )
    ChallengeCard.objects.filter(pk=cards[2].pk).update(status="done")  # done, not yet accepted: still open
    return {"november": november, "december": december}


def test_packet_board_and_scorecard_count_the_same_open_cards(council, admin_user, client):
    open_cards = ChallengeCard.objects.open().count()
    assert open_cards == 3
    packet = briefings.packet_data(admin_user, council["december"])
    assert packet.counts["cards"] == open_cards
    board = selectors.review_board(admin_user, council["november"])
    assert board.count() == open_cards
    card = scorecard.build(admin_user, council["november"])
    assert sum(cell.open_count for row in card.rows for cell in row.cells) == open_cards
    assert sum(cell.card_count for row in card.rows for cell in row.cells) == 5

    client.force_login(admin_user)
    packet_page = client.get(reverse("challenge_cards:meeting_packet", args=[council["december"].pk])).content.decode()
    assert "3 open cards from 2 agencies: the open cards on this meeting’s agenda" in packet_page
    assert "not yet accepted, carried over or dropped" in packet_page
    board_page = client.get(reverse("challenge_cards:review_board")).content.decode()
    assert "3 open cards." in board_page and "not yet accepted, carried over or dropped" in board_page
    score_page = client.get(reverse("challenge_cards:scorecard"), {"meeting": council["november"].pk}).content.decode()
    assert "still open: not yet accepted, carried over or dropped" in score_page
    assert '<div class="font-body-3xs" data-testid="cell-count">3 cards, 1 open</div>' in score_page
