"""Tables of cards written in Python (challenge_cards.rows, challenge_cards.board): what the templates wrote,
with every value typed by people escaped, on the home page, the card list, a meeting's page and the board."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from challenge_cards.models import CardStatus, Disposition
from tests import factories

pytestmark = pytest.mark.django_db

TYPED = "<b>Fish & chips</b>"
ESCAPED = "&lt;b&gt;Fish &amp; chips&lt;/b&gt;"


@pytest.fixture
def cards(agency, deputy, priority):
    held = factories.MeetingFactory(starts_at=timezone.now() - datetime.timedelta(days=20), status="held")
    factories.MeetingFactory(starts_at=timezone.now() + datetime.timedelta(days=10))
    today = timezone.localdate()
    late = factories.ChallengeCardFactory(
        meeting=held,
        agency=agency,
        priority=priority,
        title=TYPED,
        issued_at=held.starts_at - datetime.timedelta(days=1),
        due_date=today - datetime.timedelta(days=2),
        status=CardStatus.AT_RISK,
        agency_rating="green",
        omb_rating="red",
    )
    dropped = factories.ChallengeCardFactory(
        meeting=held,
        agency=agency,
        priority=priority,
        title="Dropped card",
        disposition=Disposition.DROPPED,
        disposition_reason="Merged <into> another",
    )
    return {"held": held, "late": late, "dropped": dropped}


def test_the_home_page_rows_link_flag_and_escape(client, deputy, cards):
    client.force_login(deputy)
    html = client.get(reverse("challenge_cards:home")).content.decode()
    late = cards["late"]
    row = html[html.index(f'<a class="usa-link" href="/cards/{late.pk}/">{ESCAPED}</a>\n') :]
    row = row[: row.index("</tr>")]
    assert TYPED not in html
    assert '<br><span class="cc-flag">Overdue</span>' in row
    assert '<br><span class="cc-flag cc-flag--stale">Not updated since the last meeting</span>' in row
    assert f'<td data-label="Due">{late.due_date:%b} {late.due_date.day}, {late.due_date.year}</td>' in row
    assert '<span class="usa-tag cc-status cc-status--at-risk">At risk</span>' in row
    assert '<span class="usa-tag cc-rating cc-rating--green">Agency: Green</span>' in row
    assert '<span class="usa-tag cc-rating cc-rating--red">OMB: Red</span>' in row
    assert 'data-label="Agency"' not in row  # an agency's own home does not repeat its name


def test_the_home_pages_overdue_and_due_lists_link_and_escape(client, deputy, cards):
    late = cards["late"]
    action = factories.FollowUpActionFactory(
        card=late, description=TYPED, owner_name="<i>Pat</i>", due_date=timezone.localdate() - datetime.timedelta(1)
    )
    soon = factories.FollowUpActionFactory(card=late, description="Brief the team", due_date=timezone.localdate())
    client.force_login(deputy)
    html = client.get(reverse("challenge_cards:home")).content.decode()
    was_due = f"was due {late.due_date:%b} {late.due_date.day}, {late.due_date.year}</li>"
    assert f'<li><a class="usa-link" href="/cards/{late.pk}/">{ESCAPED}</a> — {was_due}' in html
    assert (
        f'<li><a class="usa-link" href="/actions/{action.pk}/">{ESCAPED}</a> — &lt;i&gt;Pat&lt;/i&gt;, was due' in html
    )
    assert f"(card: {ESCAPED})</li>" in html and TYPED not in html and "<i>Pat</i>" not in html
    due = html[html.index('data-testid="due-soon"') :]
    due = due[: due.index("</table>")]
    assert '<td data-label="Days left" data-testid="days-left">Due today</td>' in due
    assert f'Follow-up action: <a class="usa-link" href="/cards/{late.pk}/#action-{soon.pk}">Brief the team</a>' in due
    assert f'<td data-label="Card">{ESCAPED}</td></tr>' in due


def test_the_card_list_rows_show_agency_meeting_and_disposition(client, admin_user, cards, agency):
    client.force_login(admin_user)
    html = client.get(reverse("challenge_cards:card_list")).content.decode()
    dropped, held = cards["dropped"], cards["held"]
    row = html[html.index(f'href="/cards/{dropped.pk}/">Dropped card</a>') :]
    row = row[: row.index("</tr>")]
    assert '<br><span class="font-body-2xs">Dropped</span>' in row
    assert f'<td data-label="Agency">{agency.abbreviation}</td>' in row
    starts = timezone.localtime(held.starts_at)
    assert (
        f'<td data-label="Meeting"><a class="usa-link" href="/meetings/{held.pk}/">'
        f"{starts:%b} {starts.day}, {starts.year}</a></td>"
    ) in row
    assert ESCAPED in html and TYPED not in html


def test_the_board_rows_escape_and_a_closed_card_says_why(client, admin_user, cards):
    client.force_login(admin_user)
    html = client.get(reverse("challenge_cards:review_board")).content.decode()
    late = cards["late"]
    assert TYPED not in html
    assert f'id="card-{late.pk}-title">{ESCAPED}</a>' in html
    assert f'aria-label="Review: {ESCAPED} (TREAS)"' in html
    assert f'<label for="select-{late.pk}" class="usa-sr-only">Select TREAS: {ESCAPED}</label>' in html
    assert 'class="cc-board-form"><input type="hidden" name="csrfmiddlewaretoken" value="' in html
    dropped = cards["dropped"]
    url = reverse("challenge_cards:card_review", args=[dropped.pk])
    payload = {f"card-{dropped.pk}-version": dropped.version, f"card-{dropped.pk}-decision": "keep"}
    row = client.post(url, payload, headers={"HX-Request": "true"}).content.decode()
    assert '<p class="margin-0">Dropped: Merged &lt;into&gt; another.</p>' in row
    assert "<form" not in row and 'name="cards"' not in row


def test_a_typed_choice_that_is_not_one_selects_none_and_is_not_kept():
    """What a post sends is drawn in its row: a value that is no choice must not grow the per-process cache."""
    from challenge_cards import board

    board._kept_options.cache_clear()
    row = board.ReviewRowInput(prefix="card-1", version="1", decision="<script>", errors={"decision": ["Pick one."]})
    html = row.fields_html
    for made_up in ("x1", "x2", "x3"):
        board.ReviewRowInput(prefix="card-1", version="1", decision=made_up, errors={"decision": ["Pick one."]})._html()

    decision = html.split('name="card-1-decision"')[1].split("</select>")[0]
    assert "<script>" not in html
    assert " selected" not in decision
    assert board._kept_options.cache_info().currsize == 2  # the ratings' and the decisions' options, once each


def test_shown_dates_and_urls_kept_between_calls_are_what_the_filter_and_reverse_give():
    """rows.shown_date keeps a day's text per format and language, core.links.url_of its parts per script prefix
    and URL configuration: the same text as the date filter and reverse() give each time."""
    from django.template.defaultfilters import date as date_filter
    from django.urls import set_script_prefix
    from django.utils import translation

    from challenge_cards.rows import shown_date
    from core.links import url_of

    days = [datetime.date(2026, 1, 1) + datetime.timedelta(days=n) for n in range(0, 400, 7)]
    for language in ("en", "es"):
        with translation.override(language):
            for _ in range(2):
                for day in days:
                    for format_string in ("M j, Y", "D, N jS", "DATE_FORMAT", "l"):
                        assert shown_date(day, format_string) == date_filter(day, format_string)
    moment = datetime.datetime(2026, 3, 8, 6, 30, tzinfo=datetime.UTC)
    with timezone.override("America/New_York"):
        assert shown_date(moment, "M j, Y g:i A") == "Mar 8, 2026 1:30 AM"
    assert shown_date(None, "M j, Y") == date_filter(None, "M j, Y")
    for prefix in ("/", "/pmc/", "/"):
        set_script_prefix(prefix)
        before, after = url_of("challenge_cards:card_detail")
        assert before + "42" + after == reverse("challenge_cards:card_detail", args=[42])


def test_the_rows_escape_gives_django_s_text():
    from django.utils.functional import lazy
    from django.utils.html import escape as django_escape
    from django.utils.safestring import mark_safe

    from challenge_cards.rows import escape

    lazy_text = lazy(lambda: "<lazy & 'text'>", str)()
    for value in (TYPED, ESCAPED, mark_safe("<b>safe</b>"), "\"quoted\" 'single'", 42, None, "", lazy_text):
        assert escape(value) == str(django_escape(value))
