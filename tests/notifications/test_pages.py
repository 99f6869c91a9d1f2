"""The inbox (page and API), the unread count in the header, preferences and the private calendar feed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from notifications import services
from notifications.models import Notification, Rule
from tests import factories


def make_notifications(user, count: int, start: int = 0) -> list[Notification]:
    return [
        Notification.objects.create(
            rule=Rule.CARD_ISSUED,
            subject=f"card:{start + n}",
            recipient=user,
            occurrence="issued",
            title=f"New challenge card {start + n}",
            url="/",
            status=Notification.Status.SENT,
        )
        for n in range(count)
    ]


@pytest.fixture
def signed_in(client, deputy):
    client.force_login(deputy)
    return client


def test_the_header_shows_the_unread_count_and_the_inbox_lists_only_mine(signed_in, deputy, other_deputy):
    make_notifications(deputy, 3)
    make_notifications(other_deputy, 2, start=10)
    page = signed_in.get(reverse("notifications:inbox")).content.decode()
    assert 'data-testid="unread-count" aria-hidden="true">3<' in page
    assert "3 unread" in page
    assert page.count('data-testid="notification"') == 3
    assert "New challenge card 10" not in page


def test_the_unread_count_comes_with_the_signed_in_user_and_skips_read_and_cancelled(signed_in, deputy):
    first, _second, third = make_notifications(deputy, 3)
    services.notification_mark_read(user=deputy, notification=first)
    Notification.objects.filter(pk=third.pk).update(status=Notification.Status.CANCELLED)
    with CaptureQueriesContext(connection) as captured:
        page = signed_in.get(reverse("challenge_cards:meeting_list")).content.decode()
    assert 'data-testid="unread-count" aria-hidden="true">1<' in page
    reading_notifications = [q["sql"] for q in captured.captured_queries if "notifications_notification" in q["sql"]]
    assert len(reading_notifications) == 1 and '"auth_user"' in reading_notifications[0]


def test_the_inbox_costs_the_same_queries_at_any_size(signed_in, deputy, django_assert_max_num_queries):
    make_notifications(deputy, 2)
    with django_assert_max_num_queries(9) as small:
        signed_in.get(reverse("notifications:inbox"))
    make_notifications(deputy, 20, start=100)
    with django_assert_max_num_queries(len(small.captured_queries)):
        signed_in.get(reverse("notifications:inbox"))


def test_marking_read_one_and_all(signed_in, deputy, other_deputy):
    first, second, third = make_notifications(deputy, 3)
    [theirs] = make_notifications(other_deputy, 1, start=50)
    signed_in.post(reverse("notifications:mark_read", args=[first.pk]))
    assert Notification.objects.visible_to(deputy).unread().count() == 2
    assert signed_in.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    signed_in.post(reverse("notifications:mark_all_read"))
    assert Notification.objects.visible_to(deputy).unread().count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_api_lists_my_notifications_and_marks_them_read(
    signed_in, deputy, other_deputy, django_assert_max_num_queries
):
    mine = make_notifications(deputy, 2)
    [theirs] = make_notifications(other_deputy, 1, start=50)
    with django_assert_max_num_queries(12):
        response = signed_in.get("/api/v1/notifications/?unread=true")
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {n.pk for n in mine}
    assert signed_in.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    read = signed_in.post(f"/api/v1/notifications/{mine[0].pk}/read/", content_type="application/json")
    assert read.status_code == 200 and read.json()["read"] is True
    assert signed_in.post("/api/v1/notifications/read-all/", content_type="application/json").json() == {
        "marked_read": 1
    }
    assert signed_in.get("/api/v1/notifications/?unread=true").json()["count"] == 0


def test_preferences_page_keeps_meeting_reminders_on_for_a_deputy(signed_in, deputy):
    page = signed_in.get(reverse("notifications:preferences")).content.decode()
    assert 'name="meeting_reminder" checked disabled' in page
    signed_in.post(reverse("notifications:preferences"), {"stale_cards": "on"})  # everything else unticked
    prefs = services.preferences_of(deputy)
    assert prefs[Rule.MEETING_REMINDER] is True
    assert prefs[Rule.CARD_ISSUED] is False


def test_a_delegate_can_switch_meeting_reminders_off(client, delegate):
    client.force_login(delegate)
    client.post(reverse("notifications:preferences"), {"card_issued": "on"})
    assert services.preferences_of(delegate)[Rule.MEETING_REMINDER] is False
    assert services.preferences_of(delegate)[Rule.CARD_ISSUED] is True


def test_the_calendar_feed_is_private_and_revocable(client, signed_in, deputy, card, meeting):
    action = factories.FollowUpActionFactory(card=card, owner=deputy)
    signed_in.post(reverse("notifications:calendar_replace"))
    token = deputy.calendar_feed.token
    client.logout()
    response = client.get(reverse("notifications:calendar_feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = {str(e["uid"]): e for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert events[f"meeting-{meeting.pk}@challenge-cards.omb.gov"].decoded("dtstart") == meeting.starts_at
    assert events[f"card-{card.pk}-due@challenge-cards.omb.gov"].decoded("dtstart") == card.due_date
    assert f"action-{action.pk}-due@challenge-cards.omb.gov" in events
    client.force_login(deputy)
    client.post(reverse("notifications:calendar_replace"))
    client.logout()
    assert client.get(reverse("notifications:calendar_feed", args=[token])).status_code == 404
    new_token = deputy.__class__.objects.get(pk=deputy.pk).calendar_feed.token
    assert client.get(reverse("notifications:calendar_feed", args=[new_token])).status_code == 200


def test_another_agencys_cards_are_not_in_my_feed(client, other_deputy, card):
    feed = services.calendar_feed_of(other_deputy)
    response = client.get(reverse("notifications:calendar_feed", args=[feed.token]))
    uids = {str(e["uid"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert f"card-{card.pk}-due@challenge-cards.omb.gov" not in uids


def test_someone_whose_role_ended_sees_nothing_in_their_feed(client, deputy, admin_user, card, meeting):
    action = factories.FollowUpActionFactory(card=card, owner=deputy, owner_name="")
    card.issued_by = admin_user
    card.save()
    feeds = {user: services.calendar_feed_of(user).token for user in (deputy, admin_user)}
    for user, token in feeds.items():  # while they hold their roles, the feeds show the card's dates
        response = client.get(reverse("notifications:calendar_feed", args=[token]))
        assert list(Calendar.from_ical(response.content).walk("VEVENT")), user
    deputy.memberships.update(ended_on=timezone.localdate())
    admin_user.omb_role.delete()
    for user, token in feeds.items():
        response = client.get(reverse("notifications:calendar_feed", args=[token]))
        assert response.status_code == 200
        assert not list(Calendar.from_ical(response.content).walk("VEVENT")), user
        assert action.description not in response.content.decode()


def test_an_omb_feed_keeps_to_the_cards_they_issued_and_actions_they_own(client, admin_user, card, meeting, priority):
    mine = factories.ChallengeCardFactory(meeting=meeting, priority=priority, issued_by=admin_user)
    action = factories.FollowUpActionFactory(card=card, owner=admin_user, owner_name="", owned_by="omb")
    response = client.get(reverse("notifications:calendar_feed", args=[services.calendar_feed_of(admin_user).token]))
    uids = {str(e["uid"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}
    assert f"card-{mine.pk}-due@challenge-cards.omb.gov" in uids
    assert f"card-{card.pk}-due@challenge-cards.omb.gov" not in uids
    assert f"action-{action.pk}-due@challenge-cards.omb.gov" in uids


def test_omb_admins_see_permanent_delivery_failures(client, admin_user, deputy):
    failed = make_notifications(deputy, 2)
    Notification.objects.filter(pk=failed[0].pk).update(status=Notification.Status.FAILED)
    client.force_login(admin_user)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "1 e-mail could not be delivered" in page
    client.force_login(deputy)
    assert "could not be delivered" not in client.get(reverse("notifications:inbox")).content.decode()


def test_omb_admins_see_deliveries_that_failed_for_good_and_others_do_not(client, deputy, admin_user):
    make_notifications(deputy, 3)
    Notification.objects.filter(recipient=deputy).update(status=Notification.Status.FAILED)
    client.force_login(admin_user)
    assert "3 e-mails could not be delivered" in client.get(reverse("notifications:inbox")).content.decode()
    client.force_login(deputy)
    assert "could not be delivered" not in client.get(reverse("notifications:inbox")).content.decode()
