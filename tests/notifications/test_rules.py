"""The rules on a controlled clock: business days, a federal holiday, a moved or cancelled meeting, a closed card."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from challenge_cards import services as card_services
from challenge_cards.models import Disposition, Meeting
from notifications import rules, services
from notifications.models import Notification, Preference, ReminderRule, Rule
from tests import factories

from .conftest import MEETING_AT, at


def keys(**filters) -> set[tuple[str, str, str]]:
    rows = Notification.objects.filter(**filters).exclude(status=Notification.Status.CANCELLED)
    return {(n.rule, n.recipient.username, n.occurrence) for n in rows.select_related("recipient")}


def test_business_days_skip_weekends_and_thanksgiving():
    meeting_day = MEETING_AT.date()  # Tuesday, December 1, 2026
    assert rules.business_days_before(meeting_day, 1) == datetime.date(2026, 11, 30)  # Monday
    assert rules.business_days_before(meeting_day, 2) == datetime.date(2026, 11, 27)  # Friday, over the weekend
    # Thursday the 26th is Thanksgiving: seven business days back lands on Thursday the 19th, not Friday the 20th.
    assert rules.business_days_before(meeting_day, 7) == datetime.date(2026, 11, 19)
    assert not rules.is_business_day(datetime.date(2026, 11, 26))
    assert rules.is_business_day(datetime.date(2026, 11, 27))  # the day after is a state holiday, not federal


def test_a_monday_meetings_one_day_reminder_goes_out_the_friday_before():
    assert rules.business_days_before(datetime.date(2026, 12, 7), 1) == datetime.date(2026, 12, 4)


def test_federal_closures_by_executive_order_are_not_business_days():
    # Christmas Eve 2025 and the day after Christmas: federal offices closed by executive order (the
    # `holidays` package's government category), though neither is a public holiday in law.
    assert not rules.is_business_day(datetime.date(2025, 12, 24))
    assert not rules.is_business_day(datetime.date(2025, 12, 26))
    assert not rules.is_business_day(datetime.date(2024, 12, 24))
    assert rules.is_business_day(datetime.date(2025, 12, 23))
    # A meeting on Monday 2025-12-29: one business day before skips Friday the 26th and Christmas to the 23rd.
    assert rules.business_days_before(datetime.date(2025, 12, 29), 1) == datetime.date(2025, 12, 23)


TIMELINE = [
    (at("2026-11-18"), set()),  # 8 business days before: too early
    (at("2026-11-19", 7), set()),  # the right day, before the 8:00 send time
    (
        at("2026-11-19"),
        {
            ("meeting_reminder", "deputy.treas", "7bd:2026-12-01"),
            ("meeting_reminder", "delegate.treas", "7bd:2026-12-01"),
        },
    ),
    (at("2026-11-20"), set()),
    (at("2026-11-26"), set()),  # Thanksgiving
    (at("2026-11-27"), {("stale_cards", "omb.admin", "2bd:2026-12-01")}),
    (at("2026-11-28"), set()),  # Saturday
    (
        at("2026-11-30"),
        {
            ("meeting_reminder", "deputy.treas", "1bd:2026-12-01"),
            ("meeting_reminder", "delegate.treas", "1bd:2026-12-01"),
        },
    ),
    (at("2026-12-01", 9), set()),
    (at("2026-12-01", 11), set()),  # the meeting has started
]


def test_the_scan_makes_each_reminder_on_its_business_day(council):
    made: set = set()
    for moment, expected in TIMELINE:
        with time_machine.travel(moment, tick=False):
            services.reminders_scan()
        now = keys(rule__in=[Rule.MEETING_REMINDER, Rule.STALE_CARDS])
        assert now - made == expected, moment
        made = now


def test_the_scan_run_twice_makes_each_notification_once(council):
    with time_machine.travel(at("2026-11-19"), tick=False):
        first = services.reminders_scan()
        second = services.reminders_scan()
    assert len(first.created) == 2
    assert second.created == []
    assert Notification.objects.count() == 2


def test_a_scan_that_missed_days_sends_only_the_closest_reminder(council):
    with time_machine.travel(at("2026-11-30", 15), tick=False):
        result = services.reminders_scan()
    occurrences = set(Notification.objects.filter(pk__in=result.created).values_list("occurrence", flat=True))
    assert occurrences == {"1bd:2026-12-01", "2bd:2026-12-01"}


def test_a_moved_meeting_moves_its_pending_reminders(council, admin_user):
    meeting = council["meeting"]
    with time_machine.travel(at("2026-11-19"), tick=False):
        services.reminders_scan()
        card_services.meeting_update(
            actor=admin_user, meeting=meeting, starts_at=MEETING_AT + datetime.timedelta(days=7)
        )
    cancelled = Notification.objects.filter(status=Notification.Status.CANCELLED)
    assert cancelled.count() == 2
    assert set(cancelled.values_list("last_error", flat=True)) == {"The meeting moved; reminders follow the new date."}
    # New date Tuesday, December 8: 7 business days before is Friday, November 27.
    with time_machine.travel(at("2026-11-25"), tick=False):
        assert services.reminders_scan().created == []
    with time_machine.travel(at("2026-11-27"), tick=False):
        services.reminders_scan()
    with time_machine.travel(at("2026-11-30"), tick=False):  # the old date's 1-day reminder: not any more
        assert services.reminders_scan().created == []
    assert keys(rule=Rule.MEETING_REMINDER) == {
        ("meeting_reminder", "deputy.treas", "7bd:2026-12-08"),
        ("meeting_reminder", "delegate.treas", "7bd:2026-12-08"),
    }


def test_a_meeting_moved_closer_gets_its_due_reminder_at_once(council, admin_user):
    with time_machine.travel(at("2026-11-18"), tick=False):
        assert services.reminders_scan().created == []  # December 1 is 8 business days away
        card_services.meeting_update(
            actor=admin_user,
            meeting=council["meeting"],
            starts_at=datetime.datetime(2026, 11, 19, 15, tzinfo=MEETING_AT.tzinfo),
        )
    assert keys(rule=Rule.MEETING_REMINDER) == {
        ("meeting_reminder", "deputy.treas", "1bd:2026-11-19"),
        ("meeting_reminder", "delegate.treas", "1bd:2026-11-19"),
    }


def test_a_cancelled_meeting_cancels_its_reminders(council, admin_user):
    with time_machine.travel(at("2026-11-19"), tick=False):
        services.reminders_scan()
        card_services.meeting_cancel(actor=admin_user, meeting=council["meeting"])
    # Every reminder is cancelled; what remains to send is the METHOD:CANCEL invitation (test_invitations.py).
    reminders = Notification.objects.exclude(rule=Rule.MEETING_INVITATION)
    assert set(reminders.values_list("status", flat=True)) == {Notification.Status.CANCELLED}
    assert set(Notification.objects.filter(rule=Rule.MEETING_INVITATION).values_list("occurrence", flat=True)) == {
        "seq:1"
    }
    with time_machine.travel(at("2026-11-30"), tick=False):
        assert services.reminders_scan().created == []


def test_a_card_closed_before_its_reminder_gets_none(council, admin_user, other_agency, other_deputy):
    card = council["card"]
    factories.ChallengeCardFactory(agency=other_agency, meeting=council["last_meeting"], issued_by=admin_user)
    with time_machine.travel(at("2026-11-18"), tick=False):
        card_services.card_review(
            actor=admin_user, card=card, expected_version=card.version, disposition=Disposition.ACCEPTED
        )
    with time_machine.travel(at("2026-11-19"), tick=False):
        services.reminders_scan()
    assert keys(rule=Rule.MEETING_REMINDER) == {("meeting_reminder", "deputy.dol", "7bd:2026-12-01")}


def test_a_card_closed_after_the_reminder_was_made_cancels_the_email(council, admin_user, mailoutbox):
    card = council["card"]
    with time_machine.travel(at("2026-11-19"), tick=False):
        created = services.reminders_scan().created
        card_services.card_review(
            actor=admin_user, card=card, expected_version=card.version, disposition=Disposition.ACCEPTED
        )
        outcomes = {services.notification_deliver(notification_id=pk).status for pk in created}
    assert outcomes == {Notification.Status.CANCELLED}
    assert mailoutbox == []


def test_an_admin_can_add_a_reminder_rule_without_a_deploy(council):
    ReminderRule.objects.create(rule=Rule.MEETING_REMINDER, business_days_before=3)
    with time_machine.travel(at("2026-11-25"), tick=False):  # 3 business days before December 1
        services.reminders_scan()
    assert {o for _, _, o in keys(rule=Rule.MEETING_REMINDER)} == {"3bd:2026-12-01"}


def test_delegates_may_switch_reminders_off_deputies_may_not(council, deputy, delegate):
    services.preferences_update(user=delegate, enabled={Rule.MEETING_REMINDER: False})
    with pytest.raises(ValidationError):
        services.preferences_update(user=deputy, enabled={Rule.MEETING_REMINDER: False})
    # Even a stored "off" (say, from before they became deputy) does not stop a deputy's reminder.
    Preference.objects.create(user=deputy, rule=Rule.MEETING_REMINDER, enabled=False)
    with time_machine.travel(at("2026-11-19"), tick=False):
        services.reminders_scan()
    assert keys(rule=Rule.MEETING_REMINDER) == {("meeting_reminder", "deputy.treas", "7bd:2026-12-01")}


def test_an_overdue_action_tells_its_owner_and_the_delegates_once(council, delegate, deputy):
    card = council["card"]
    owner = factories.viewer_of(card.agency, user__username="chco.treas")
    factories.FollowUpActionFactory(card=card, owner=owner, due_date=datetime.date(2026, 11, 16))
    factories.FollowUpActionFactory(card=card, owner=owner, due_date=datetime.date(2026, 11, 17))  # not yet overdue
    with time_machine.travel(at("2026-11-17", 6), tick=False):
        services.reminders_scan()
        services.reminders_scan()
    assert keys(rule=Rule.ACTION_OVERDUE) == {
        ("action_overdue", "chco.treas", "due:2026-11-16"),
        ("action_overdue", "delegate.treas", "due:2026-11-16"),
    }


def test_an_overdue_action_is_not_told_to_an_owner_who_may_not_see_the_card(
    council, delegate, deputy, admin_user, other_deputy
):
    card = council["card"]
    due = datetime.date(2026, 11, 16)
    # Rows the services refuse today (older data, the admin of old): another agency's deputy as owner.
    factories.FollowUpActionFactory(card=card, owner=other_deputy, owned_by="omb", owner_name="", due_date=due)
    factories.FollowUpActionFactory(card=card, owner=other_deputy, owner_name="", due_date=due)
    # An owner whose membership ended since.
    gone = factories.delegate_of(card.agency, user__username="gone.treas")
    factories.FollowUpActionFactory(card=card, owner=gone, owner_name="", due_date=due)
    gone.memberships.update(ended_on=datetime.date(2026, 11, 10))
    with time_machine.travel(at("2026-11-17", 6), tick=False):
        services.reminders_scan()
    told = {username for _rule, username, _occurrence in keys(rule=Rule.ACTION_OVERDUE)}
    assert told == {"delegate.treas", "omb.admin"}  # the agency's delegate; OMB's side falls back to the issuer


def test_the_overdue_scan_costs_the_same_queries_for_more_owners(council):
    card = council["card"]

    def scan(day: str, owners: int) -> int:
        due = datetime.date.fromisoformat(day) - datetime.timedelta(days=1)
        for n in range(owners):
            owner = factories.viewer_of(card.agency, user__username=f"owner.{day}.{n}")
            factories.FollowUpActionFactory(card=card, owner=owner, owner_name="", due_date=due)
        with time_machine.travel(at(day, 6), tick=False), CaptureQueriesContext(connection) as queries:
            services.reminders_scan()
        card.actions.update(status="dropped", dropped_reason="Counted.")
        return len(queries.captured_queries)

    assert scan("2026-11-17", 1) == scan("2026-11-18", 5)


def test_issuing_a_card_notifies_the_deputy_and_delegates_in_the_same_transaction(
    council, admin_user, priority, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        cards = card_services.card_issue(
            actor=admin_user,
            meeting=council["meeting"],
            agencies=[council["card"].agency],
            title="Ramp up CX capacity",
            ask="Name a CX lead and staff the team.",
            priority=priority,
        )
    assert keys(rule=Rule.CARD_ISSUED, card=cards[0]) == {
        ("card_issued", "deputy.treas", "issued"),
        ("card_issued", "delegate.treas", "issued"),
    }
    assert len(callbacks) == 1  # one enqueue, after commit


def test_a_failed_issue_leaves_no_notification(council, admin_user, priority):
    with pytest.raises(ValidationError):
        card_services.card_issue(
            actor=admin_user,
            meeting=council["meeting"],
            agencies=[council["card"].agency],
            title="",
            ask="",
            priority=priority,
        )
    assert not Notification.objects.filter(rule=Rule.CARD_ISSUED).exists()


def test_an_agency_update_notifies_the_admin_who_issued_the_card(council, delegate):
    card = council["card"]
    update = card_services.card_update(actor=delegate, card=card, expected_version=card.version, note="Posted the job.")
    assert keys(rule=Rule.CARD_UPDATED) == {("card_updated", "omb.admin", "posted")}
    assert Notification.objects.get(rule=Rule.CARD_UPDATED).subject == f"update:{update.pk}"


def test_meetings_cancelled_status_is_not_scanned(council):
    Meeting.objects.filter(pk=council["meeting"].pk).update(status=Meeting.Status.CANCELLED)
    with time_machine.travel(at("2026-11-19"), tick=False):
        assert services.reminders_scan().created == []
