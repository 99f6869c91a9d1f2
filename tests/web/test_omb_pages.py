"""OMB pages: issuing with a preview, the review board, meetings and agencies (Django test client)."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from challenge_cards.models import CardStatus, ChallengeCard, Disposition, Meeting
from tests import factories


def issue_data(meeting, priority, agencies, **extra):
    data = {
        "meeting": meeting.pk,
        "agencies": [a.pk for a in agencies],
        "title": "Publish a CX action plan",
        "ask": "Publish the plan and name a CX lead.",
        "priority": priority.pk,
        "horizon": "month",
    }
    data.update(extra)
    return data


def test_issue_preview_names_the_deputies_and_creates_nothing(
    client_for, admin_user, meeting, priority, agency, deputy
):
    other = factories.AgencyFactory(name="Department of Labor", abbreviation="DOL")
    client = client_for(admin_user)
    response = client.post(reverse("challenge_cards:card_issue"), {**issue_data(meeting, priority, [agency, other])})
    assert response.status_code == 200
    html = response.content.decode()
    assert deputy.get_full_name() in html
    assert "No deputy secretary on record" in html  # Labor has none
    assert not ChallengeCard.objects.exists()


def test_issue_confirm_creates_one_card_per_agency(client_for, admin_user, meeting, priority, agency, deputy):
    other = factories.AgencyFactory(name="Department of Labor", abbreviation="DOL")
    client = client_for(admin_user)
    data = {**issue_data(meeting, priority, [agency, other]), "step": "confirm"}
    response = client.post(reverse("challenge_cards:card_issue"), data)
    assert response.status_code == 302
    assert sorted(ChallengeCard.objects.values_list("agency__abbreviation", flat=True)) == ["DOL", "TREAS"]
    assert ChallengeCard.objects.get(agency=agency).issued_to == deputy


def test_issue_to_all_active_agencies(client_for, admin_user, meeting, priority, agency):
    factories.AgencyFactory(name="Department of Labor", abbreviation="DOL")
    factories.AgencyFactory(name="Old Agency", abbreviation="OLD", active=False)
    data = {**issue_data(meeting, priority, []), "all_agencies": "on", "step": "confirm"}
    assert client_for(admin_user).post(reverse("challenge_cards:card_issue"), data).status_code == 302
    assert sorted(ChallengeCard.objects.values_list("agency__abbreviation", flat=True)) == ["DOL", "TREAS"]


def test_issue_without_agencies_shows_the_error(client_for, admin_user, meeting, priority):
    response = client_for(admin_user).post(reverse("challenge_cards:card_issue"), issue_data(meeting, priority, []))
    assert response.status_code == 400
    assert "Choose at least one agency" in response.content.decode()


def test_issue_service_error_lands_next_to_the_field(client_for, admin_user, meeting, priority, agency):
    factories.ChallengeCardFactory(meeting=meeting, agency=agency, priority=priority, title="Publish a CX action plan")
    data = {**issue_data(meeting, priority, [agency]), "step": "confirm"}
    response = client_for(admin_user).post(reverse("challenge_cards:card_issue"), data)
    assert response.status_code == 400
    assert "already have a card with this title" in response.context["form"].errors["title"][0]


def review(client, card, **data):
    payload = {f"card-{card.pk}-version": card.version, f"card-{card.pk}-decision": "keep"}
    payload.update({f"card-{card.pk}-{key}": value for key, value in data.items()})
    return client.post(reverse("challenge_cards:card_review", args=[card.pk]), payload)


def test_review_sets_rating_and_accepts(client_for, admin_user, card):
    response = review(client_for(admin_user), card, omb_rating="green", decision="accept")
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.omb_rating, card.disposition) == ("green", Disposition.ACCEPTED)


def test_review_drop_needs_a_reason(client_for, admin_user, card):
    response = review(client_for(admin_user), card, decision="drop")
    assert response.status_code == 400
    assert f'id="id_card-{card.pk}-reason-error"' in response.content.decode()
    card.refresh_from_db()
    assert card.disposition == Disposition.OPEN


def test_review_returns_a_done_card(client_for, admin_user, deputy, card):
    from challenge_cards import services

    services.card_update(actor=deputy, card=card, expected_version=1, status=CardStatus.DONE)
    card.refresh_from_db()
    response = review(client_for(admin_user), card, decision="return", reason="Show the hires first.")
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == CardStatus.IN_PROGRESS


def test_review_carry_over_with_a_new_due_date(client_for, admin_user, card):
    card.meeting.starts_at = timezone.now() - datetime.timedelta(days=20)
    card.meeting.save()
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=9))
    response = review(
        client_for(admin_user), card, decision="carry_over", due_date="2031-05-01", reason="Needs another month."
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.disposition == Disposition.CARRIED_OVER
    assert str(card.carried_over_to.due_date) == "2031-05-01"


def test_review_carry_over_without_a_due_date_keeps_the_old_one_while_it_is_ahead(client_for, admin_user, card):
    """Was: defaulted to the meeting after the one it moves to; now the old due date, never an earlier one."""
    card.meeting.starts_at = timezone.now() - datetime.timedelta(days=20)
    card.meeting.save()
    card.due_date = timezone.localdate() + datetime.timedelta(days=200)
    card.save()
    to_meeting = factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=9))
    response = review(client_for(admin_user), card, decision="carry_over", reason="Needs another month.")
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.carried_over_to.meeting == to_meeting
    assert card.carried_over_to.due_date == card.due_date


def test_review_carry_over_of_a_card_past_its_due_date_needs_a_new_one(client_for, admin_user, card):
    card.meeting.starts_at = timezone.now() - datetime.timedelta(days=40)
    card.meeting.save()
    card.due_date = timezone.localdate() - datetime.timedelta(days=3)
    card.save()
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=9))
    response = review(client_for(admin_user), card, decision="carry_over", reason="Needs another month.")
    assert response.status_code == 400
    assert "Give the new due date" in response.content.decode()
    card.refresh_from_db()
    assert card.disposition == Disposition.OPEN


def test_stale_review_is_refused(client_for, admin_user, card):
    client = client_for(admin_user)
    payload = {f"card-{card.pk}-version": 99, f"card-{card.pk}-decision": "accept"}
    response = client.post(reverse("challenge_cards:card_review", args=[card.pk]), payload)
    assert response.status_code == 409
    card.refresh_from_db()
    assert card.disposition == Disposition.OPEN


def test_review_board_puts_red_overdue_stale_and_disagreeing_cards_first(client_for, admin_user, priority):
    now = timezone.now()
    last = factories.MeetingFactory(starts_at=now - datetime.timedelta(days=10), status="held")
    earlier = factories.MeetingFactory(starts_at=now - datetime.timedelta(days=40), status="held")
    today = timezone.localdate()

    def make(title, **fields):
        agency = factories.AgencyFactory()
        defaults = {
            "meeting": earlier,
            "issued_at": earlier.starts_at,
            "due_date": today + datetime.timedelta(days=30),
            "last_agency_update_at": now,
        }
        return factories.ChallengeCardFactory(agency=agency, priority=priority, title=title, **{**defaults, **fields})

    fine = make("fine", meeting=last, issued_at=last.starts_at)
    disagree = make("disagree", agency_rating="green", omb_rating="yellow")
    stale = make("stale", last_agency_update_at=None)
    overdue = make("overdue", due_date=today - datetime.timedelta(days=1))
    red = make("red", status=CardStatus.AT_RISK)
    response = client_for(admin_user).get(reverse("challenge_cards:review_board"))
    order = [card.title for card, _form in response.context["rows"]]
    assert order == [red.title, overdue.title, stale.title, disagree.title, fine.title]


def test_schedule_next_meeting(client_for, admin_user, meeting):
    response = client_for(admin_user).post(reverse("challenge_cards:meeting_schedule_next"))
    assert response.status_code == 302
    assert Meeting.objects.count() == 2


def test_schedule_a_meeting_and_errors(client_for, admin_user):
    client = client_for(admin_user)
    url = reverse("challenge_cards:meeting_schedule")
    data = {"date": "2031-02-11", "time": "10:00", "duration_minutes": 90, "location": "EEOB"}
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)  # same time again
    assert response.status_code == 400
    assert "Another meeting is already scheduled" in response.content.decode()


def test_meeting_page_lists_every_card_issued_there(client_for, omb_viewer_user, meeting, priority):
    cards = [factories.ChallengeCardFactory(meeting=meeting, priority=priority) for _ in range(3)]
    html = client_for(omb_viewer_user).get(meeting.get_absolute_url()).content.decode()
    for card in cards:
        assert card.title in html


def test_agencies_page_counts(client_for, admin_user, agency, priority, meeting):
    today = timezone.localdate()
    factories.ChallengeCardFactory(agency=agency, meeting=meeting, priority=priority)
    factories.ChallengeCardFactory(
        agency=agency, meeting=meeting, priority=priority, due_date=today - datetime.timedelta(days=2)
    )
    factories.ChallengeCardFactory(agency=agency, meeting=meeting, priority=priority, status=CardStatus.DONE)
    response = client_for(admin_user).get(reverse("challenge_cards:agency_list"))
    row = next(a for a in response.context["agencies"] if a.pk == agency.pk)
    assert (row.open_count, row.overdue_count, row.done_count) == (2, 1, 1)
    assert f"?agency={agency.pk}" in response.content.decode()


def test_review_in_place_with_htmx_returns_the_redrawn_row(client_for, admin_user, card):
    client = client_for(admin_user)
    url = reverse("challenge_cards:card_review", args=[card.pk])
    payload = {f"card-{card.pk}-version": card.version, f"card-{card.pk}-decision": "keep"}
    response = client.post(url, {**payload, f"card-{card.pk}-omb_rating": "red"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="card-{card.pk}"')  # was an <article>: the board is a table now
    assert "Review saved for TREAS" in html
    assert "OMB: Red" in html
    assert "<html" not in html
    response = client.post(
        url,
        {**payload, f"card-{card.pk}-version": 2, f"card-{card.pk}-decision": "drop"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Give a reason for this disposition." in response.content.decode()
    card.refresh_from_db()
    assert (card.omb_rating, card.disposition) == ("red", Disposition.OPEN)


def test_issue_form_starts_from_the_meeting_page(client_for, admin_user, meeting):
    later = factories.MeetingFactory()
    client = client_for(admin_user)
    assert f"?meeting={later.pk}" in client.get(later.get_absolute_url()).content.decode()
    response = client.get(reverse("challenge_cards:card_issue") + f"?meeting={later.pk}")
    assert response.context["form"]["meeting"].value() == later.pk
    assert client.get(reverse("challenge_cards:card_issue")).context["form"]["meeting"].value() == meeting.pk


def test_a_far_future_meeting_date_is_a_field_error_and_every_page_still_works(client_for, admin_user, deputy):
    client = client_for(admin_user)
    url = reverse("challenge_cards:meeting_schedule")
    response = client.post(url, {"date": "9999-12-31", "time": "23:00", "duration_minutes": 90})
    assert response.status_code == 400
    assert response.context["schedule_form"].errors["date"] == ["Give a date between 2000 and 2100."]
    assert not Meeting.objects.exists()
    for page in (reverse("challenge_cards:meeting_list"), reverse("challenge_cards:home"), "/api/v1/meetings/"):
        assert client.get(page).status_code == 200


def test_review_board_agency_is_typed_an_abbreviation_a_name_or_an_id(client_for, admin_user, agency, card):
    client = client_for(admin_user)
    board = reverse("challenge_cards:review_board")

    def shown(value) -> list:
        response = client.get(board, {"agency": value})
        assert response.status_code == 200
        return [row_card for row_card, _ in response.context["rows"]]

    for value in ("treas", "TREAS", "treasury", " Treasury ", agency.pk):
        assert shown(value) == [card], value
    for value in ("99999999999999999999", 2**63 - 1, "0", "-1", "Labor"):
        assert shown(value) == [], value
    assert shown("x" * 201) == [card]  # longer than any name: not a filter
    response = client.get(board, {"agency": "treas"})
    assert response.context["filters"].agency == "treas" and response.context["query"] == "agency=treas"
    assert 'id="id_agency-hint"' in response.content.decode()


def test_issue_form_ignores_a_meeting_id_that_is_no_id(client_for, admin_user, meeting):
    response = client_for(admin_user).get(reverse("challenge_cards:card_issue"), {"meeting": "99999999999999999999"})
    assert response.status_code == 200
    assert response.context["form"]["meeting"].value() == meeting.pk
