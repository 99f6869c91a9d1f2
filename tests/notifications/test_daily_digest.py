"""OMB admins get one daily digest instead of an e-mail per event (their default; anyone may choose it), and
the inbox groups notifications by meeting."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from challenge_cards import services as card_services
from notifications import services
from notifications.models import Notification, Preference, Rule
from tests import factories

from .conftest import at

pytestmark = pytest.mark.django_db


def _post_update(deputy, card, day: str, note: str):
    with time_machine.travel(at(day, 11), tick=False):
        card_services.card_update(actor=deputy, card=card.pk, expected_version=None, note=note)


def test_an_omb_admin_gets_one_daily_digest_instead_of_an_email_per_update(
    council, deputy, admin_user, agency, priority, mailoutbox
):
    card = council["card"]  # issued by the OMB admin: each agency update notifies them
    other = factories.ChallengeCardFactory(
        agency=agency, meeting=council["meeting"], priority=priority, issued_by=admin_user, title="Open a CX office"
    )
    _post_update(deputy, card, "2026-11-16", "Announcement drafted.")
    _post_update(deputy, other, "2026-11-16", "Lease signed.")
    updates = Notification.objects.filter(recipient=admin_user, rule=Rule.CARD_UPDATED)
    assert set(updates.values_list("status", flat=True)) == {Notification.Status.IN_DIGEST}
    assert mailoutbox == []
    with time_machine.travel(at("2026-11-17", 7), tick=False):  # before the send time: no digest yet
        assert services.reminders_scan().by_rule[Rule.DAILY_DIGEST] == 0
    with time_machine.travel(at("2026-11-17", 8, 5), tick=False):
        created = services.reminders_scan().created
        assert services.reminders_scan().created == []  # once a day
    [digest] = Notification.objects.filter(pk__in=created, rule=Rule.DAILY_DIGEST)
    assert (digest.recipient, digest.title) == (admin_user, "Your daily digest: 2 notifications")
    with time_machine.travel(at("2026-11-17", 8, 10), tick=False):
        services.notification_deliver(notification_id=digest.pk)
    [message] = mailoutbox
    assert message.subject == "Your daily digest: 2 notifications"
    body = message.body
    december, november = council["meeting"].title, council["last_meeting"].title
    # Grouped by the meeting that issued each card, the latest meeting first.
    assert body.index(december) < body.index("Open a CX office") < body.index(november)
    assert body.index(november) < body.index("TREAS updated the card Run a pooled hiring action for data scientists")


def test_an_omb_admin_may_choose_an_email_per_event_and_anyone_may_choose_the_digest(
    council, deputy, admin_user, client
):
    assert services.preferences_of(admin_user)[Rule.DAILY_DIGEST] is True
    assert services.preferences_of(deputy)[Rule.DAILY_DIGEST] is False
    Preference.objects.create(user=admin_user, rule=Rule.DAILY_DIGEST, enabled=False)
    _post_update(deputy, council["card"], "2026-11-16", "Announcement drafted.")
    assert Notification.objects.get(recipient=admin_user, rule=Rule.CARD_UPDATED).status == Notification.Status.PENDING
    client.force_login(deputy)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "One daily digest instead of an e-mail per event" in page


def test_meeting_reminders_keep_their_own_email_for_digest_readers(council, deputy):
    Preference.objects.create(user=deputy, rule=Rule.DAILY_DIGEST, enabled=True)
    with time_machine.travel(at("2026-11-19"), tick=False):
        services.reminders_scan()
    reminder = Notification.objects.get(recipient=deputy, rule=Rule.MEETING_REMINDER)
    assert reminder.status == Notification.Status.PENDING


def test_the_inbox_groups_by_meeting(council, deputy, admin_user, client):
    _post_update(deputy, council["card"], "2026-11-20", "Drafted.")
    with time_machine.travel(at("2026-11-27"), tick=False):  # the stale-cards list, 2 business days before
        services.reminders_scan()
    client.force_login(admin_user)
    html = client.get(reverse("notifications:inbox")).content.decode()
    headings = [part.split("<span", 1)[0].strip() for part in html.split('data-testid="inbox-group">')[1:]]
    assert headings == [council["meeting"].title, council["last_meeting"].title]
