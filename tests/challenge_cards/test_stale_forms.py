"""Every page form that can be refused because someone changed the thing first keeps what was typed
(issue 16, failure 6): the action forms (mark done, reopen, drop, reassign, due date) and the review
answer 409 with the typed text and the current version; evidence and interim targets, which carry no
version, come back refused with what was typed too.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from challenge_cards import services
from challenge_cards.models import InterimTarget
from tests import factories

TYPED = "Typed before the page went stale: the CHCO signed the pooled hiring plan"


def _someone_else_changes_the_action(action, admin_user):
    services.action_change(
        actor=admin_user,
        action=action,
        expected_version=action.version,
        due_date=action.due_date + datetime.timedelta(days=7),
    )


def _someone_else_changes_the_card(card, deputy):
    services.card_update(actor=deputy, card=card, expected_version=card.version, note="Meanwhile, elsewhere.")


def _action_post(op, fields, *, prefix="", done=False):
    def post(world):
        action = world["action"]
        if done:
            action = services.action_complete(actor=world["deputy"], action=action, expected_version=action.version)
        version = action.version
        _someone_else_changes_the_action(action, world["admin_user"])
        data = {f"{prefix}version": version, **{f"{prefix}{name}": value for name, value in fields.items()}}
        return f"/actions/{action.pk}/{op}/", data, action, world["deputy"]

    return post


def _review_post(world):
    card = world["card"]
    version = card.version
    _someone_else_changes_the_card(card, world["deputy"])
    prefix = f"card-{card.pk}-"
    data = {f"{prefix}version": version, f"{prefix}decision": "drop", f"{prefix}reason": TYPED}
    return f"/cards/{card.pk}/review/", data, card, world["admin_user"]


def _evidence_post(world):
    card = world["card"]
    # No version to go stale; refused (a link that is not one), it comes back with its title.
    return f"/cards/{card.pk}/evidence/", {"title": TYPED, "url": "not a link"}, card, world["deputy"]


def _interim_post(world):
    card = world["card"]
    date = card.due_date - datetime.timedelta(days=3)
    # Someone added a target on that date after the page was opened.
    InterimTarget.objects.create(card=card, date=date, value=Decimal("10"), created_by=world["admin_user"])
    return f"/cards/{card.pk}/interim-targets/", {"date": date.isoformat(), "value": "123.45"}, card, world["deputy"]


CASES = [
    pytest.param(_action_post("complete", {"note": TYPED}), 409, TYPED, id="action mark done"),
    pytest.param(_action_post("reopen", {"note": TYPED}, done=True), 409, TYPED, id="action reopen"),
    pytest.param(_action_post("drop", {"reason": TYPED}, prefix="drop-"), 409, TYPED, id="action drop"),
    pytest.param(
        _action_post("reassign", {"owned_by": "agency", "owner_name": TYPED[:200]}, prefix="reassign-"),
        409,
        TYPED[:200],
        id="action reassign",
    ),
    pytest.param(_action_post("due-date", {"due_date": "2031-03-04"}, prefix="due-"), 409, "2031-03-04", id="due date"),
    pytest.param(_review_post, 409, TYPED, id="review"),
    pytest.param(_evidence_post, 400, TYPED, id="evidence"),
    pytest.param(_interim_post, 400, "123.45", id="interim target"),
]


@pytest.fixture
def world(agency, deputy, admin_user, meeting, priority):
    card = factories.ChallengeCardFactory(
        agency=agency,
        issued_to=deputy,
        meeting=meeting,
        priority=priority,
        metric_name="Hires",
        metric_target=400,
        due_date=datetime.date.today() + datetime.timedelta(days=120),
    )
    action = factories.FollowUpActionFactory(card=card)
    return {"card": card, "action": action, "deputy": deputy, "admin_user": admin_user}


@pytest.mark.parametrize(("stale_post", "status", "kept"), CASES)
def test_a_refused_form_keeps_what_was_typed(client, world, stale_post, status, kept):
    path, data, target, user = stale_post(world)
    client.force_login(user)
    response = client.post(path, data)
    assert response.status_code == status, response.content[:500]
    page = response.content.decode()
    assert kept in page
    if status == 409:
        target.refresh_from_db()
        assert "Someone else" in page and "after you opened the page" in page
        assert f'value="{target.version}"' in page  # sending it again is one click once the change is seen
