"""What a posted update costs in SQL, counted as the server sends it: BEGIN and COMMIT included.

Issue 17 asks for at most 10 statements with the audit and notification rows. The tests run outside
a test transaction (transaction=True), so BEGIN and COMMIT are real and Django's query capture sees
them, as it sees a SAVEPOINT; a savepoint here would be counted.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from challenge_cards import selectors
from challenge_cards.api.serializers import FollowUpActionSerializer
from challenge_cards.models import CardStatus, CardUpdate, ChallengeCard
from notifications.models import Notification, Preference, Rule, WebhookDelivery, WebhookSubscription
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)

# The token, the roles; BEGIN; the card locked with what its notifications decide on, its actions;
# the card, its history row, the issuer's notification, the request's audit row; COMMIT.
DEPUTY_STATEMENTS = ["SELECT", "SELECT", "BEGIN", "SELECT", "SELECT", "UPDATE", "INSERT", "INSERT", "INSERT", "COMMIT"]


@pytest.fixture
def queued(monkeypatch):
    """The notification ids handed to the broker, each with whether a transaction was still open then."""
    calls: list[tuple[list[int], bool]] = []
    monkeypatch.setattr(
        "notifications.services.enqueue.notifications",
        lambda ids: calls.append((list(ids), transaction.get_connection().in_atomic_block)),
    )
    return calls


@pytest.fixture
def issued_card(world, admin_user):
    card = world["own_card"]
    card.issued_by = admin_user
    card.status = CardStatus.IN_PROGRESS
    card.save()
    # One e-mail per event for the issuer (an OMB admin gets the daily digest by default).
    Preference.objects.create(user=admin_user, rule=Rule.DAILY_DIGEST, enabled=False)
    return card


def _post(client, card, body):
    etag = client.get(f"/api/v1/cards/{card.pk}/")["ETag"]  # also records the token's first use
    assert connection.features.supports_json_field  # SQLite probes it once per connection (a savepoint)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/v1/cards/{card.pk}/updates/", body, format="json", HTTP_IF_MATCH=etag)
    return response, [query["sql"].lstrip("(").split(" ", 1)[0] for query in captured]


def test_a_deputy_secretarys_update_costs_ten_statements_with_its_notification_and_audit_rows(
    world, issued_card, admin_user, queued
):
    deputy = world["users"]["deputy"]
    response, statements = _post(client_for(deputy), issued_card, {"status": "at_risk", "note": "Hiring froze."})

    assert response.status_code == 201, response.content
    assert statements == DEPUTY_STATEMENTS, statements
    update = CardUpdate.objects.get(card=issued_card, kind="update")
    assert (update.author, update.on_behalf_of, update.status_to) == (deputy, None, "at_risk")
    notification = Notification.objects.get(rule=Rule.CARD_UPDATED, recipient=admin_user)
    assert (notification.subject, notification.status) == (f"update:{update.pk}", Notification.Status.PENDING)
    assert queued == [([notification.pk], False)]  # queued once, after the commit
    audit = AuditEvent.objects.get(action="request.post", object_id=str(issued_card.pk))
    assert (audit.actor, audit.on_behalf_of_id, audit.status_code, audit.outcome) == (deputy, None, 201, "success")
    assert audit.details["events"] == ["card_updated"]
    assert response["ETag"] == f'W/"card-{issued_card.pk}-v{issued_card.version + 1}"'


def test_a_delegates_update_adds_one_statement_to_find_the_deputy_it_is_on_behalf_of(
    world, issued_card, admin_user, queued
):
    delegate, deputy = world["users"]["delegate"], world["users"]["deputy"]
    response, statements = _post(client_for(delegate), issued_card, {"status": "at_risk", "note": "Hiring froze."})

    assert response.status_code == 201, response.content
    assert statements == [*DEPUTY_STATEMENTS[:5], "SELECT", *DEPUTY_STATEMENTS[5:]]
    update = CardUpdate.objects.get(card=issued_card, kind="update")
    assert (update.author, update.on_behalf_of) == (delegate, deputy)
    audit = AuditEvent.objects.get(action="request.post", object_id=str(issued_card.pk))
    assert (audit.actor, audit.on_behalf_of_id) == (delegate, deputy.pk)
    assert Notification.objects.filter(rule=Rule.CARD_UPDATED, recipient=admin_user).count() == 1


def test_the_issuers_choices_and_the_agencys_webhooks_are_honoured(world, issued_card, admin_user, queued):
    """Switched off: no notification; a subscription to card.updated: its delivery, in the same transaction."""
    Preference.objects.create(user=admin_user, rule=Rule.CARD_UPDATED, enabled=False)
    subscription = WebhookSubscription.objects.create(
        agency=world["agency"], event_type="card.updated", url="https://tool.example.gov/hook"
    )
    response, statements = _post(
        client_for(world["users"]["deputy"]), issued_card, {"status": "at_risk", "note": "Hiring froze."}
    )

    assert response.status_code == 201, response.content
    assert "SAVEPOINT" not in statements
    assert not Notification.objects.filter(rule=Rule.CARD_UPDATED).exists()
    assert queued == []
    update = CardUpdate.objects.get(card=issued_card, kind="update")
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.event_id == f"card.updated:{update.pk}"


def test_a_stale_if_match_is_refused_and_leaves_no_change_behind(world, issued_card):
    client = client_for(world["users"]["deputy"])
    stale = client.get(f"/api/v1/cards/{issued_card.pk}/")["ETag"]
    assert (
        client.post(
            f"/api/v1/cards/{issued_card.pk}/updates/", {"note": "First."}, format="json", HTTP_IF_MATCH=stale
        ).status_code
        == 201
    )

    response = client.post(
        f"/api/v1/cards/{issued_card.pk}/updates/",
        {"status": "at_risk", "note": "Late."},
        format="json",
        HTTP_IF_MATCH=stale,
    )

    assert response.status_code == 412
    assert CardUpdate.objects.filter(card=issued_card, kind="update").count() == 1
    refused = AuditEvent.objects.get(action="request.post", status_code=412)
    assert refused.outcome == "failure"  # written on its own by the middleware, after the rollback


def _other_session() -> psycopg.Connection:
    """A second session on the test database, as another request's would be."""
    info = connection.connection.info
    return psycopg.connect(
        host=info.host, port=info.port, dbname=info.dbname, user=info.user, password=info.password, autocommit=True
    )


@pytest.mark.postgresql
def test_the_locked_read_locks_the_card_and_not_its_agency_or_priority(world, issued_card):
    """selectors.card_for_update reads the card with its agency and priority joined, locked FOR UPDATE OF the
    card: another session cannot lock the card, and can still lock (and so write) the agency and priority."""
    assert connection.vendor == "postgresql"
    with transaction.atomic():
        found = selectors.card_for_update(
            world["users"]["deputy"], issued_card.pk, action_columns=FollowUpActionSerializer.row_columns()
        )
        assert found is not None and found.card.pk == issued_card.pk
        with _other_session() as other:
            for table, pk in (
                ("agencies_agency", issued_card.agency_id),
                ("challenge_cards_pmapriority", issued_card.priority_id),
            ):
                assert other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk]).fetchone() == (
                    pk,
                )
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(
                    "SELECT id FROM challenge_cards_challengecard WHERE id = %s FOR UPDATE NOWAIT", [issued_card.pk]
                )


@pytest.mark.postgresql
def test_the_locked_read_gives_the_card_as_the_orm_reads_it(world, issued_card, admin_user):
    """The instance made from the kept row holds what the ORM's own locked read holds: every field, the agency,
    the priority's number and what the update's notifications decide on; another agency's card is None."""
    deputy = world["users"]["deputy"]
    expected = ChallengeCard.objects.select_related("agency", "priority").with_update_facts().get(pk=issued_card.pk)
    columns = FollowUpActionSerializer.row_columns()
    with transaction.atomic():
        found = selectors.card_for_update(deputy, issued_card.pk, action_columns=columns)
        hidden = selectors.card_for_update(deputy, world["other_card"].pk, action_columns=columns)
    assert hidden is None
    assert found is not None
    card = found.card
    fields = [field.attname for field in ChallengeCard._meta.concrete_fields]
    assert [getattr(card, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert card.agency == expected.agency and card.agency.abbreviation == expected.agency.abbreviation
    assert card.agency.certification_required == expected.agency.certification_required
    assert card.priority.number == expected.priority.number
    assert card.card_updated_facts == expected.card_updated_facts
    assert card.card_updated_facts["email"] == admin_user.email and card.card_updated_facts["digest"] is False
    assert not card._state.adding
    assert [row[0] for row in found.actions] == [world["own_action"].pk]
