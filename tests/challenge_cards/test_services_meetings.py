"""Scheduling PMC meetings: monthly rhythm in Eastern time, no clashes, cancel and held rules."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from challenge_cards import services
from challenge_cards.models import EASTERN, MEETING_MAX_MINUTES, Meeting
from tests import factories

UTC = datetime.UTC


def _at(year, month, day, hour=10, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=EASTERN)


def test_admin_schedules_a_meeting(admin_user):
    meeting = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13), location="EEOB Room 430")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.starts_at == _at(2026, 1, 13)
    assert meeting.created_by == admin_user
    assert meeting.location == "EEOB Room 430"


@pytest.mark.parametrize("who", ["deputy", "delegate", "omb_viewer_user"])
def test_only_omb_admins_schedule(request, who):
    with pytest.raises(PermissionDenied):
        services.meeting_schedule(actor=request.getfixturevalue(who), starts_at=_at(2026, 1, 13))
    assert not Meeting.objects.exists()


def test_a_time_without_a_zone_is_refused(admin_user):
    with pytest.raises(ValidationError) as error:
        services.meeting_schedule(actor=admin_user, starts_at=datetime.datetime(2026, 1, 13, 10))
    assert "starts_at" in error.value.message_dict


@pytest.mark.parametrize(
    "starts_at",
    [
        datetime.datetime(9999, 12, 31, 23, 0, tzinfo=EASTERN),  # year 10000 in UTC: overflows
        datetime.datetime(2101, 1, 5, 10, 0, tzinfo=EASTERN),
        datetime.datetime(1999, 12, 31, 10, 0, tzinfo=EASTERN),
        datetime.datetime(1, 1, 1, 10, 0, tzinfo=UTC),
    ],
)
def test_a_meeting_outside_2000_to_2100_is_refused_everywhere(admin_user, meeting, starts_at):
    with pytest.raises(ValidationError) as error:
        services.meeting_schedule(actor=admin_user, starts_at=starts_at)
    assert error.value.message_dict == {"starts_at": ["Give a date between 2000 and 2100."]}
    with pytest.raises(ValidationError) as error:
        services.meeting_update(actor=admin_user, meeting=meeting, starts_at=starts_at)
    assert "starts_at" in error.value.message_dict
    assert Meeting.objects.count() == 1
    assert list(Meeting.objects.values_list("starts_at", flat=True)) == [meeting.starts_at]


def test_a_meeting_in_2100_is_accepted(admin_user):
    meeting = services.meeting_schedule(actor=admin_user, starts_at=_at(2100, 12, 14))
    assert meeting.starts_at.year == 2100


def test_meeting_update_refuses_a_change_made_on_a_stale_copy(admin_user, meeting):
    loaded = meeting.updated_at
    services.meeting_update(actor=admin_user, meeting=meeting, location="Roosevelt Room")
    with pytest.raises(services.StaleWrite):
        services.meeting_update(
            actor=admin_user, meeting=meeting, expected_updated_at=loaded, agenda_notes="New agenda"
        )
    meeting.refresh_from_db()
    assert (meeting.location, meeting.agenda_notes) == ("Roosevelt Room", "")
    services.meeting_update(
        actor=admin_user, meeting=meeting, expected_updated_at=meeting.updated_at, agenda_notes="New agenda"
    )
    meeting.refresh_from_db()
    assert (meeting.location, meeting.agenda_notes) == ("Roosevelt Room", "New agenda")


def test_a_clash_with_another_meeting_is_refused(admin_user):
    services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    with pytest.raises(ValidationError) as error:
        # The same instant written in UTC is still a clash.
        services.meeting_schedule(actor=admin_user, starts_at=datetime.datetime(2026, 1, 13, 15, tzinfo=UTC))
    assert "starts_at" in error.value.message_dict
    assert Meeting.objects.count() == 1


def test_a_cancelled_meeting_frees_its_time(admin_user):
    first = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    services.meeting_cancel(actor=admin_user, meeting=first)
    second = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    assert second.pk != first.pk


def test_moving_a_meeting_onto_another_is_refused(admin_user):
    services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    other = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 2, 10))
    with pytest.raises(ValidationError) as error:
        services.meeting_update(actor=admin_user, meeting=other, starts_at=_at(2026, 1, 13))
    assert "starts_at" in error.value.message_dict
    other.refresh_from_db()
    assert other.starts_at == _at(2026, 2, 10)


def test_meeting_update_changes_the_place_and_keeps_its_own_time(admin_user):
    meeting = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    services.meeting_update(actor=admin_user, meeting=meeting, starts_at=_at(2026, 1, 13), location="Room 350")
    meeting.refresh_from_db()
    assert meeting.location == "Room 350"


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (_at(2026, 1, 13), _at(2026, 2, 10)),  # 2nd Tuesday stays the 2nd Tuesday
        (_at(2026, 2, 23), _at(2026, 3, 23)),  # 4th Monday stays 4th, though March has five Mondays
        (_at(2026, 1, 29), _at(2026, 2, 26)),  # a 5th Thursday becomes February's last one
        (_at(2026, 12, 8), _at(2027, 1, 12)),  # December -> January of the next year
        (_at(2026, 12, 29), _at(2027, 1, 26)),  # 5th Tuesday of December -> last Tuesday of January
        (_at(2026, 1, 13, 23), _at(2026, 2, 10, 23)),  # the week is counted in Eastern time, not UTC
    ],
)
def test_next_monthly_start(previous, expected):
    assert services.next_monthly_start(previous) == expected


@pytest.mark.parametrize(
    ("previous_utc", "expected_utc"),
    [
        # 10:00 EST (UTC-5) in February -> 10:00 EDT (UTC-4) in March
        (datetime.datetime(2026, 2, 10, 15, tzinfo=UTC), datetime.datetime(2026, 3, 10, 14, tzinfo=UTC)),
        # 10:00 EDT in October -> 10:00 EST in November
        (datetime.datetime(2026, 10, 13, 14, tzinfo=UTC), datetime.datetime(2026, 11, 10, 15, tzinfo=UTC)),
    ],
)
def test_next_monthly_start_keeps_the_eastern_wall_time_across_dst(previous_utc, expected_utc):
    result = services.next_monthly_start(previous_utc)
    assert result == expected_utc
    assert result.astimezone(EASTERN).hour == 10


def test_schedule_next_follows_the_latest_meeting_and_copies_its_details(admin_user):
    services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    latest = services.meeting_schedule(
        actor=admin_user, starts_at=_at(2026, 2, 10), duration_minutes=60, location="EEOB", video_url="https://x.gov/v"
    )
    cancelled = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 4, 14))
    services.meeting_cancel(actor=admin_user, meeting=cancelled)
    following = services.meeting_schedule_next(actor=admin_user)
    following.refresh_from_db()
    assert following.starts_at == _at(2026, 3, 10)
    assert following.starts_at.astimezone(UTC).hour == 14  # DST began on March 8
    assert (following.duration_minutes, following.location, following.video_url) == (60, "EEOB", "https://x.gov/v")
    assert latest.pk != following.pk


def test_schedule_next_after_a_given_meeting(admin_user):
    january = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 5, 12))
    february = services.meeting_schedule_next(actor=admin_user, after=january, location="Room 430")
    assert february.starts_at == _at(2026, 2, 10)
    assert february.location == "Room 430"


def test_schedule_next_refuses_a_clash(admin_user):
    january = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 2, 10))
    with pytest.raises(ValidationError) as error:
        services.meeting_schedule_next(actor=admin_user, after=january)
    assert "starts_at" in error.value.message_dict
    assert Meeting.objects.count() == 2


def test_schedule_next_needs_a_first_meeting(admin_user):
    with pytest.raises(ValidationError):
        services.meeting_schedule_next(actor=admin_user)
    assert not Meeting.objects.exists()


def test_schedule_next_is_for_omb_admins_only(admin_user, deputy):
    january = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    with pytest.raises(PermissionDenied):
        services.meeting_schedule_next(actor=deputy, after=january)
    assert Meeting.objects.count() == 1


def test_cancel_a_scheduled_meeting(admin_user):
    meeting = services.meeting_schedule(actor=admin_user, starts_at=_at(2026, 1, 13))
    services.meeting_cancel(actor=admin_user, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED


@pytest.mark.parametrize("status", [Meeting.Status.CANCELLED, Meeting.Status.HELD])
def test_only_a_scheduled_meeting_can_be_cancelled_or_marked_held(admin_user, status):
    meeting = factories.MeetingFactory(status=status)
    with pytest.raises(ValidationError):
        services.meeting_cancel(actor=admin_user, meeting=meeting)
    with pytest.raises(ValidationError):
        services.meeting_mark_held(actor=admin_user, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == status


def test_mark_a_meeting_held(admin_user):
    meeting = factories.MeetingFactory(starts_at=_at(2026, 1, 13))
    with time_machine.travel(_at(2026, 1, 13, 12)):
        services.meeting_mark_held(actor=admin_user, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD


def test_a_cancelled_meeting_cannot_be_changed(admin_user):
    meeting = factories.MeetingFactory(status=Meeting.Status.CANCELLED, location="EEOB")
    with pytest.raises(ValidationError):
        services.meeting_update(actor=admin_user, meeting=meeting, location="Room 350")
    meeting.refresh_from_db()
    assert meeting.location == "EEOB"


def test_unknown_meeting_fields_are_refused(admin_user, meeting):
    with pytest.raises(ValidationError):
        services.meeting_update(actor=admin_user, meeting=meeting, status="held")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


@pytest.mark.parametrize("who", ["deputy", "omb_viewer_user"])
def test_only_omb_admins_change_meetings(meeting, request, who):
    actor = request.getfixturevalue(who)
    for change in (
        lambda: services.meeting_cancel(actor=actor, meeting=meeting),
        lambda: services.meeting_mark_held(actor=actor, meeting=meeting),
        lambda: services.meeting_update(actor=actor, meeting=meeting, location="Elsewhere"),
    ):
        with pytest.raises(PermissionDenied):
            change()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.location != "Elsewhere"


@pytest.fixture
def calendar_of_meetings(db):
    return {
        "december": factories.MeetingFactory(starts_at=_at(2025, 12, 9), status=Meeting.Status.HELD),
        "january": factories.MeetingFactory(starts_at=_at(2026, 1, 13)),
        "february_cancelled": factories.MeetingFactory(starts_at=_at(2026, 2, 10), status=Meeting.Status.CANCELLED),
        "february": factories.MeetingFactory(starts_at=_at(2026, 2, 17)),
        "march": factories.MeetingFactory(starts_at=_at(2026, 3, 10)),
    }


@pytest.mark.parametrize(
    ("now", "next_name", "last_name"),
    [
        (_at(2026, 1, 1), "january", "december"),
        (_at(2026, 1, 13, 9, 59), "january", "december"),
        (_at(2026, 1, 13, 10, 0), "january", "december"),  # at its start instant it is still the next one
        (_at(2026, 1, 13, 10, 1), "february", "january"),  # once it has started it is the last one
        (_at(2026, 2, 12), "february", "january"),  # the cancelled one is neither
        (_at(2026, 3, 11), None, "march"),
        (_at(2025, 11, 1), "january", None),  # a held meeting is not "next"
    ],
)
def test_next_and_last_meeting(calendar_of_meetings, now, next_name, last_name):
    with time_machine.travel(now, tick=False):
        next_meeting = Meeting.objects.next_meeting()
        last_meeting = Meeting.objects.last_meeting()
    assert next_meeting == (calendar_of_meetings[next_name] if next_name else None)
    assert last_meeting == (calendar_of_meetings[last_name] if last_name else None)


def test_the_service_refuses_a_meeting_longer_than_the_limit_as_pages_and_api_do(admin_user, meeting):
    with pytest.raises(ValidationError) as refused:
        too_long = MEETING_MAX_MINUTES + 1
        services.meeting_schedule(actor=admin_user, starts_at=_at(2031, 3, 11), duration_minutes=too_long)
    assert "duration_minutes" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.meeting_update(actor=admin_user, meeting=meeting, duration_minutes=MEETING_MAX_MINUTES + 1)
    meeting.refresh_from_db()
    assert meeting.duration_minutes != MEETING_MAX_MINUTES + 1


@pytest.mark.parametrize("who", ["deputy", "admin_user"])
def test_meeting_context_reads_the_next_and_last_meetings_at_any_moment_from_its_kept_sql(
    calendar_of_meetings, request, who
):
    """selectors.meeting_context keeps its SQL with `now` in a slot: the same meetings, every field and the
    cards' fingerprint as the ORM reads them, whatever the moment (asked in turn in one process)."""
    from challenge_cards import selectors
    from challenge_cards.selectors.pages import cards_fingerprint

    user = request.getfixturevalue(who)
    factories.FollowUpActionFactory(card=factories.ChallengeCardFactory(meeting=calendar_of_meetings["december"]))
    for now in (_at(2026, 1, 1), _at(2026, 1, 13, 10, 1), _at(2026, 3, 11), _at(2025, 11, 1), _at(2026, 2, 12)):
        expected = Meeting.objects.next_and_last(now)
        with time_machine.travel(now, tick=False):
            context = selectors.meeting_context(user, fingerprint=True)
        got = (context["next_meeting"], context["last_meeting"])
        assert got == expected
        fields = [field.attname for field in Meeting._meta.concrete_fields]
        for meeting, read in zip(got, expected, strict=True):  # repr: date-times in the ORM's own time zone
            assert repr([getattr(meeting, name, None) for name in fields]) == repr(
                [getattr(read, name, None) for name in fields]
            )
        assert context["cards_fingerprint"] == cards_fingerprint()


def test_meeting_context_shows_no_meeting_to_a_user_without_a_role(calendar_of_meetings):
    from challenge_cards import selectors

    nobody = factories.UserFactory()
    assert selectors.meeting_context(nobody)["next_meeting"] is None
    assert selectors.meeting_context(nobody)["last_meeting"] is None
