"""The meeting's record: published with the close-out's decisions when the meeting closes, sent to attendees,
corrected in versions, readable in the API."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from challenge_cards import services as card_services
from challenge_cards.models import Meeting
from council import selectors, services
from council.models import MeetingRecord, RecordVersion
from notifications.models import Notification, Rule
from tests import factories


@pytest.fixture
def held(meeting, card, other_agency, priority, admin_user, deputy, other_deputy):
    other = factories.ChallengeCardFactory(agency=other_agency, meeting=meeting, priority=priority, title="Other card")
    services.record_attendance_set(
        actor=admin_user, meeting=meeting, agency=card.agency, name="Pat Deputy", person=deputy
    )
    services.record_attendance_set(
        actor=admin_user, meeting=meeting, agency=other_agency, name="Sam Stand-in", mode="video", substitute=True
    )
    services.record_minutes_set(actor=admin_user, meeting=meeting, minutes="The council reviewed hiring.")
    card_services.card_review(
        actor=admin_user, card=card, expected_version=None, disposition="accepted", note="Hires made."
    )
    card_services.card_review(
        actor=admin_user, card=other, expected_version=None, disposition="dropped", reason="Overtaken by events."
    )
    return other


def _close(meeting):
    # The close as issue 14's close-out saves it: closed_at with update_fields (the record listens to that save).
    meeting.closed_at = timezone.now()
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["closed_at", "status", "updated_at"])


def test_closing_the_meeting_publishes_the_record_and_sends_it_to_attendees(meeting, card, held, deputy, other_deputy):
    with time_machine.travel(meeting.starts_at + datetime.timedelta(hours=2)):
        _close(meeting)
    record = MeetingRecord.objects.get(meeting=meeting)
    assert (record.status, record.version) == ("published", 1)
    (version,) = RecordVersion.objects.filter(record=record)
    decisions = {row["title"]: (row["decision"], row["reason"]) for row in version.content["decisions"]}
    assert decisions == {card.title: ("accepted", "Hires made."), "Other card": ("dropped", "Overtaken by events.")}
    assert [(row["agency"], row["substitute"]) for row in version.content["attendance"]] == [
        ("DOL", True),
        ("TREAS", False),
    ]
    assert list(Notification.objects.filter(rule=Rule.MEETING_RECORD).values_list("recipient", flat=True)) == [
        deputy.pk
    ]
    # An agency reads the decisions on its own cards only.
    seen = selectors.record_detail(deputy, meeting.pk)
    assert [row["title"] for row in seen.content["decisions"]] == [card.title]


def test_a_correction_is_a_new_version_and_the_first_is_kept(meeting, held, admin_user, client, deputy):
    _close(meeting)
    with pytest.raises(ValidationError, match="published"):
        services.record_minutes_set(actor=admin_user, meeting=meeting, minutes="Rewritten")
    with pytest.raises(ValidationError, match="Say what"):
        services.record_correct(actor=admin_user, meeting=meeting, note=" ", minutes="x")
    version = services.record_correct(
        actor=admin_user, meeting=meeting, note="Fixed the hiring figure.", minutes="The council reviewed 400 hires."
    )
    assert version.number == 2
    first, second = RecordVersion.objects.filter(record__meeting=meeting).order_by("number")
    assert first.content["minutes"] == "The council reviewed hiring."
    assert second.content["minutes"] == "The council reviewed 400 hires."
    assert Notification.objects.filter(rule=Rule.MEETING_RECORD, occurrence="v2").count() == 1
    client.force_login(deputy)
    body = client.get(f"/api/v1/meeting-records/{first.record_id}/").json()
    assert (body["version"], body["minutes"]) == (2, "The council reviewed 400 hires.")
    assert [v["number"] for v in body["versions"]] == [2, 1]
    page = client.get(f"/meetings/{meeting.pk}/record/?version=1")
    assert b"The council reviewed hiring." in page.content


def test_agencies_do_not_read_a_draft_record(client, meeting, held, deputy):
    client.force_login(deputy)
    assert client.get(f"/meetings/{meeting.pk}/record/").status_code == 404
    assert client.get("/api/v1/meeting-records/").json()["results"] == []


def test_the_record_page_and_pdf_show_the_published_version(client, meeting, held, deputy):
    _close(meeting)
    client.force_login(deputy)
    page = client.get(f"/meetings/{meeting.pk}/record/")
    assert page.status_code == 200
    assert b"Published version 1" in page.content and b"Sam Stand-in" in page.content and b"By video" in page.content
    pdf = client.get(f"/meetings/{meeting.pk}/record.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_attendance_recorded_on_the_page_is_the_deputy_unless_a_substitute_is_named(
    client, meeting, admin_user, agency, other_agency, deputy, other_deputy
):
    client.force_login(admin_user)
    url = f"/meetings/{meeting.pk}/record/attendance/"
    assert client.post(url, {"agency": agency.pk, "name": "", "mode": "video"}).status_code == 302
    refused = client.post(url, {"agency": other_agency.pk, "name": "", "mode": "in_person", "substitute": "on"})
    assert refused.status_code == 400 and b"a substitute is always named" in refused.content
    client.post(url, {"agency": other_agency.pk, "name": "Chris Chief", "mode": "in_person", "substitute": "on"})
    record = MeetingRecord.objects.get(meeting=meeting)
    rows = {row.agency_id: (row.name, row.person_id, row.mode) for row in record.attendance.all()}
    assert rows == {
        agency.pk: (deputy.get_full_name(), deputy.pk, "video"),
        other_agency.pk: ("Chris Chief", None, "in_person"),
    }
    _close(meeting)
    assert list(Notification.objects.filter(rule=Rule.MEETING_RECORD).values_list("recipient", flat=True)) == [
        deputy.pk
    ]


def test_the_record_email_names_the_version_and_links_the_record(meeting, held, admin_user, deputy):
    from notifications import emails

    _close(meeting)
    services.record_correct(actor=admin_user, meeting=meeting, note="Fixed a name.", minutes="Corrected.")
    notification = Notification.objects.get(rule=Rule.MEETING_RECORD, occurrence="v2")
    message = emails.build(notification)
    assert message.subject == f"Corrected record (version 2) of the {meeting.title}"
    assert "Correction: Fixed a name." in message.body and f"/meetings/{meeting.pk}/record/" in message.body
    assert message.to == [f"{deputy.get_full_name()} <{deputy.email}>"]
