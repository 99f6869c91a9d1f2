"""OMB's review board at sixty cards: a compact table, filters in the URL, decisions in place (htmx) or by the
plain form, one decision for several cards, and OMB's home as a summary of counts with links."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from challenge_cards.models import CardStatus, ChallengeCard, Disposition
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(agency, other_agency, deputy, other_deputy, priority):
    last = factories.MeetingFactory(starts_at=timezone.now() - datetime.timedelta(days=20), status="held")
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=10))
    other_priority = factories.PmaPriorityFactory(number=2, short_title="CX", title="Customer experience")
    today = timezone.localdate()

    def card(title, **extra):
        extra.setdefault("agency", agency)
        extra.setdefault("priority", priority)
        extra.setdefault("issued_at", last.starts_at - datetime.timedelta(days=1))
        return factories.ChallengeCardFactory(meeting=last, title=title, **extra)

    return {
        "late": card("Late card", due_date=today - datetime.timedelta(days=3), last_agency_update_at=timezone.now()),
        "red": card("Red card", omb_rating="red", agency_rating="green", last_agency_update_at=timezone.now()),
        "quiet": card("Quiet card", agency=other_agency, priority=other_priority),
        "risky": card("Risky card", status=CardStatus.AT_RISK, last_agency_update_at=timezone.now()),
        "other_priority": other_priority,
    }


def _titles(client, **params) -> list[str]:
    response = client.get(reverse("challenge_cards:review_board"), params)
    assert response.status_code == 200
    return sorted(card.title for card, _form in response.context["rows"])


def test_filters_are_kept_in_the_url_and_narrow_the_board(client, admin_user, board, other_agency):
    client.force_login(admin_user)
    assert _titles(client) == ["Late card", "Quiet card", "Red card", "Risky card"]
    assert _titles(client, agency=other_agency.pk) == ["Quiet card"]
    assert _titles(client, priority=board["other_priority"].pk) == ["Quiet card"]
    assert _titles(client, status="at_risk") == ["Risky card"]
    assert _titles(client, rating="red") == ["Red card"]
    assert _titles(client, disagree="on") == ["Red card"]
    assert _titles(client, red="on") == ["Red card", "Risky card"]
    assert _titles(client, stale="on") == ["Quiet card"]
    assert _titles(client, overdue="on") == ["Late card"]
    page = client.get(reverse("challenge_cards:review_board"), {"status": "at_risk", "overdue": "on"})
    assert page.context["query"] == "status=at_risk&overdue=on"
    assert "No open cards match these filters." in page.content.decode()


def test_a_decision_in_place_is_one_request_answered_with_the_row(client, admin_user, board):
    client.force_login(admin_user)
    card = board["red"]
    url = reverse("challenge_cards:card_review", args=[card.pk])
    payload = {f"card-{card.pk}-version": 1, f"card-{card.pk}-decision": "accept", f"card-{card.pk}-omb_rating": "red"}
    response = client.post(url, payload, headers={"HX-Request": "true"})
    assert response.status_code == 200  # no redirect to follow: the one request brings the redrawn row
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="card-{card.pk}"') and "<html" not in html
    assert "Review saved for TREAS: Red card." in html and "Accepted." in html
    card.refresh_from_db()
    assert card.disposition == Disposition.ACCEPTED


def test_without_javascript_the_row_form_posts_and_returns_to_the_board(client, admin_user, board):
    client.force_login(admin_user)
    card = board["quiet"]
    url = reverse("challenge_cards:card_review", args=[card.pk])
    payload = {f"card-{card.pk}-version": 1, f"card-{card.pk}-decision": "continue", f"card-{card.pk}-reason": ""}
    response = client.post(url, payload)
    assert response.status_code == 302 and response["Location"].endswith(f"#card-{card.pk}")
    assert card.updates.get().changes["decision"] == [None, "continue"]


def test_one_decision_with_one_reason_for_the_selected_cards(client, admin_user, board):
    client.force_login(admin_user)
    picked = [board["late"].pk, board["quiet"].pk]
    response = client.post(
        reverse("challenge_cards:review_bulk"),
        {"cards": picked, "decision": "drop", "reason": "Merged into the CX card.", "query": "overdue=on"},
    )
    assert response.status_code == 302 and response["Location"].endswith("/review/?overdue=on")
    dropped = ChallengeCard.objects.filter(pk__in=picked)
    assert set(dropped.values_list("disposition", "disposition_reason")) == {
        (Disposition.DROPPED, "Merged into the CX card.")
    }
    assert ChallengeCard.objects.get(pk=board["red"].pk).disposition == Disposition.OPEN


def test_a_bulk_decision_is_all_or_nothing(client, admin_user, board):
    client.force_login(admin_user)
    ChallengeCard.objects.filter(pk=board["red"].pk).update(disposition=Disposition.ACCEPTED)
    response = client.post(
        reverse("challenge_cards:review_bulk"),
        {"cards": [board["late"].pk, board["red"].pk], "decision": "drop", "reason": "Moot."},
        follow=True,
    )
    assert "Nothing was saved. TREAS: Red card: This card is already accepted." in response.content.decode()
    assert ChallengeCard.objects.get(pk=board["late"].pk).disposition == Disposition.OPEN
    refused = client.post(reverse("challenge_cards:review_bulk"), {"cards": [board["late"].pk], "decision": "drop"})
    assert refused.status_code == 302
    assert ChallengeCard.objects.get(pk=board["late"].pk).disposition == Disposition.OPEN


def test_the_board_is_a_compact_table_with_labelled_controls(client, admin_user, board):
    client.force_login(admin_user)
    html = client.get(reverse("challenge_cards:review_board")).content.decode()
    assert 'data-testid="review-board"' in html and '<th scope="col">Last update</th>' in html
    card = board["late"]
    assert f'<label for="select-{card.pk}" class="usa-sr-only">Select TREAS: Late card</label>' in html
    assert 'id="bulk-form"' in html and "Apply to the selected cards" in html
    assert "4 open cards." in html


def test_the_first_page_costs_the_same_queries_at_a_few_hundred_cards(client, admin_user, board, agency, priority):
    client.force_login(admin_user)
    url = reverse("challenge_cards:review_board")
    meeting = board["late"].meeting
    ChallengeCard.objects.bulk_create(
        [
            ChallengeCard(
                meeting=meeting,
                agency=agency,
                issued_at=meeting.starts_at,
                title=f"Bulk card {i}",
                ask="Do it.",
                priority=priority,
                due_date=timezone.localdate() + datetime.timedelta(days=i % 40 - 20),
                omb_rating=["", "red", "green"][i % 3],
            )
            for i in range(300)
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert len(response.context["rows"]) == 60
    assert len(queries) <= 6, [q["sql"][:80] for q in queries]


def test_the_omb_home_is_a_summary_with_counts_and_links(client, admin_user, board):
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("challenge_cards:home")).content.decode()
    assert len(queries) <= 6
    assert '<p class="font-heading-xl margin-0" data-testid="count-open">4</p>' in html
    assert '<p class="font-heading-xl margin-0" data-testid="count-overdue">1</p>' in html
    assert '<p class="font-heading-xl margin-0" data-testid="count-stale">1</p>' in html
    assert '<p class="font-heading-xl margin-0" data-testid="count-disagree">1</p>' in html
    assert 'href="/review/?overdue=on"' in html and 'href="/review/?stale=on"' in html
    assert '<p class="font-heading-xl margin-0" data-testid="count-red">2</p>' in html
    assert 'href="/review/?red=on"' in html
    assert "Overdue follow-up actions" not in html


def test_a_bulk_decision_on_a_card_changed_since_the_board_was_read_saves_nothing(client, admin_user, board):
    client.force_login(admin_user)
    late, quiet = board["late"], board["quiet"]
    ChallengeCard.objects.filter(pk=quiet.pk).update(version=2)  # someone changed it after the board was read
    response = client.post(
        reverse("challenge_cards:review_bulk"),
        {"cards": [late.pk, quiet.pk], f"version-{late.pk}": 1, f"version-{quiet.pk}": 1, "decision": "accept"},
        follow=True,
    )
    assert "DOL: Quiet card changed after you opened the board." in response.content.decode()
    assert set(ChallengeCard.objects.filter(pk__in=[late.pk, quiet.pk]).values_list("disposition", flat=True)) == {
        Disposition.OPEN
    }


def _controls(html: str) -> dict[str, tuple[str, str]]:
    """Each named control of an HTML fragment: name -> (id, the label's text for that id)."""
    import re

    labels = {m[0]: m[1] for m in re.findall(r'<label[^>]*for="([^"]+)"[^>]*>([^<]*)</label>', html)}
    found = {}
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        name, id_ = re.search(r'name="([^"]+)"', tag), re.search(r'id="([^"]+)"', tag)
        if name and id_:
            found[name[1]] = (id_[1], labels.get(id_[1], ""))
    return found


def test_the_board_row_posts_what_the_review_form_reads_with_the_same_labels(client, admin_user, board):
    """The row's plain HTML carries ReviewForm's names, ids and labels (the form alone checks the post)."""
    from challenge_cards.forms import ReviewForm

    client.force_login(admin_user)
    card = board["red"]
    html = client.get(reverse("challenge_cards:review_board")).content.decode()
    row = html[html.index(f'<tr id="card-{card.pk}"') :]
    row = row[: row.index("</tr>")]
    form = ReviewForm(card=card)
    expected = {f.html_name: (f.auto_id, "" if f.is_hidden else str(f.label)) for f in form}
    assert {
        name: control for name, control in _controls(row).items() if name.startswith(f"card-{card.pk}-")
    } == expected
    assert '<option value="red" selected>Red</option>' in row  # OMB's rating as it is
    assert '<option value="keep" selected>' in row


def test_an_invalid_decision_in_place_keeps_what_was_typed_and_says_what_to_fix(client, admin_user, board):
    client.force_login(admin_user)
    card = board["late"]
    prefix = f"card-{card.pk}"
    payload = {
        f"{prefix}-version": 1,
        f"{prefix}-decision": "drop",
        f"{prefix}-omb_rating": "yellow",
        f"{prefix}-due_date": "2031-01-15",
        f"{prefix}-reason": "",
    }
    url = reverse("challenge_cards:card_review", args=[card.pk])
    html = client.post(url, payload, headers={"HX-Request": "true"}).content.decode()
    assert f'<span class="usa-error-message" id="id_{prefix}-reason-error" role="alert">' in html
    assert "Reason or note: Give a reason for this disposition." in html
    assert f'aria-describedby="id_{prefix}-reason-hint id_{prefix}-reason-error"' in html
    assert '<option value="yellow" selected>Yellow</option>' in html
    assert '<option value="drop" selected>Drop</option>' in html
    assert 'value="2031-01-15"' in html
    card.refresh_from_db()
    assert card.disposition == Disposition.OPEN
