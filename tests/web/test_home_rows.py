"""The deputy's home page read as plain rows from kept SQL (selectors.home_rows, core.db.compiled): the same
HTML, byte for byte, as the page drawn from model instances read with the ORM; only the user's agency's rows;
and no date kept from one day to the next."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from agencies.roles import roles_of
from challenge_cards import selectors
from challenge_cards.models import CardStatus, Certification, ChallengeCard, Disposition, FollowUpAction, Meeting
from challenge_cards.querysets import due_action_q, due_card_q
from tests import factories

pytestmark = pytest.mark.django_db

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _cards(agency, meetings, priority, count: int, name: str) -> list[ChallengeCard]:
    """`count` cards of the agency over the meetings: overdue, due before the next meeting, later; every
    status and rating; a few not open any more."""
    today = timezone.localdate()
    statuses = list(CardStatus)
    ratings = ["", "green", "yellow", "red"]
    return ChallengeCard.objects.bulk_create(
        ChallengeCard(
            meeting=meetings[i % len(meetings)],
            agency=agency,
            issued_at=meetings[i % len(meetings)].starts_at + datetime.timedelta(minutes=i),
            title=f"{name} card {i} <&>",
            ask="Do the thing.",
            priority=priority,
            due_date=today + datetime.timedelta(days=i % 19 - 7),
            status=statuses[i % len(statuses)],
            agency_rating=ratings[i % 4],
            omb_rating=ratings[(i // 4) % 4],
            disposition=Disposition.ACCEPTED if i % 11 == 10 else Disposition.OPEN,
            last_agency_update_at=timezone.now() if i % 3 == 0 else None,
        )
        for i in range(count)
    )


def _actions(cards: list[ChallengeCard], owners: list, name: str) -> None:
    today = timezone.localdate()
    FollowUpAction.objects.bulk_create(
        FollowUpAction(
            card=card,
            description=f"{name} action {i} <i>",
            owner=owners[i % len(owners)],
            owner_name="" if i % 5 == 0 else f"Officer {i} & co",
            due_date=None if i % 13 == 12 else today + datetime.timedelta(days=i % 17 - 8),
            status="done" if i % 7 == 6 else "open",
            completed_at=timezone.now() if i % 7 == 6 else None,
        )
        for i, card in enumerate(cards)
    )


@pytest.fixture
def world(agency, other_agency, deputy, delegate, other_deputy, priority):
    """Two agencies, each with 70 cards over two held meetings, actions (owned by people with and without
    names, by a name only, by nobody) and drafts awaiting the deputy's certification; the next meeting
    is in 6 days."""
    now = timezone.now()
    held = [
        factories.MeetingFactory(starts_at=now - datetime.timedelta(days=days), status=Meeting.Status.HELD)
        for days in (50, 20)
    ]
    factories.MeetingFactory(starts_at=now + datetime.timedelta(days=6), location="Room <1>")
    named = factories.UserFactory(username="pat.named", first_name="Pat", last_name="O'Neil <x>")
    nameless = factories.UserFactory(username="sam.nameless", first_name="", last_name="")
    mine = _cards(agency, held, priority, 70, "Treasury")
    theirs = _cards(other_agency, held, priority, 70, "Labor")
    _actions(mine, [named, nameless, None], "Treasury")
    _actions(theirs, [named, None], "Labor")
    for i, card in enumerate(mine[:25]):
        factories.CardUpdateFactory(
            card=card,
            author=delegate if i % 2 else nameless,
            on_behalf_of=deputy,
            certification=Certification.PENDING,
            created_at=now - datetime.timedelta(hours=i),
        )
    for card in theirs[:3]:
        factories.CardUpdateFactory(card=card, certification=Certification.PENDING, on_behalf_of=other_deputy)
    return {"mine": mine, "theirs": theirs}


def _drawn_from_instances(request, page_number: str | None) -> bytes:
    """The home page as the ORM's model instances draw it: each list read with querysets (the rules of
    selectors.home_reads, home_actions and awaiting_my_certification), rendered by the same template."""
    user = request.user
    today = timezone.localdate()
    context = selectors.meeting_context(user)
    last, next_meeting = context["last_meeting"], context["next_meeting"]
    until = next_meeting.starts_at_eastern.date()
    cards = selectors.home_cards(user, last)
    page = Paginator(cards, 50).get_page(page_number)
    overdue_cards = list(cards.filter(is_overdue=True).order_by("due_date", "id")[:20])
    due_cards = list(cards.filter(due_card_q(today, until)).order_by("due_date", "id")[:30])
    actions = FollowUpAction.objects.visible_to(user).select_related("card__agency", "owner").order_by("due_date", "id")
    due_actions = list(actions.filter(due_action_q(today, until))[:30])
    context.update(
        nav="home",
        roles=roles_of(user),
        cards=page,
        overdue_cards=overdue_cards,
        overdue_actions=list(selectors.overdue_actions(user)[:20]),
        due_soon=selectors.as_items(due_cards, due_actions, today),
        to_certify=list(selectors.awaiting_my_certification(user)[:20]),
    )
    return render_to_string("challenge_cards/home.html", context, request=request).encode()


def _same_as_instances(client, url: str, page_number: str | None) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    expected = _drawn_from_instances(response.wsgi_request, page_number)
    assert CSRF.sub(b"", response.content) == CSRF.sub(b"", expected)
    return response.content


@pytest.mark.parametrize("page_number", [None, "2", "x", "99", "0"])
def test_the_deputy_s_home_is_the_page_model_instances_draw(client, world, deputy, page_number):
    client.force_login(deputy)
    url = reverse("challenge_cards:home") + (f"?page={page_number}" if page_number is not None else "")
    html = _same_as_instances(client, url, page_number).decode()
    assert "Waiting for your certification" in html and "Overdue follow-up actions" in html
    if page_number in (None, "x"):
        assert html.count("Follow-up action: ") > 3 and html.count("Card: ") > 3 and "Unassigned" in html


def test_the_lists_hold_what_the_page_shows_each_escaped(client, world, deputy):
    """The lists are full (20 overdue cards and actions, 20 drafts, 30 due and more) and every kind of name
    is there: an owner's full name, a username, an owner's typed name, nobody."""
    client.force_login(deputy)
    html = _same_as_instances(client, reverse("challenge_cards:home"), None).decode()
    assert html.count("— was due") == 20 and html.count("(card: ") == 20
    assert html.count("— update by") == 20
    assert "Pat O&#x27;Neil &lt;x&gt;" in html and "sam.nameless" in html and "Officer" in html
    assert "&lt;&amp;&gt;" in html and "<&>" not in html and "<i>" not in html


@pytest.mark.parametrize("who", ["deputy", "delegate", "other_deputy"])
def test_another_agency_s_cards_actions_and_drafts_never_appear(request, client, world, who):
    user = request.getfixturevalue(who)
    mine, theirs = ("Labor", "Treasury") if who == "other_deputy" else ("Treasury", "Labor")
    for other in ("deputy", "delegate", "other_deputy"):  # each one's SQL kept in the same process
        client.force_login(request.getfixturevalue(other))
        client.get(reverse("challenge_cards:home"))
    client.force_login(user)
    for page in ("", "?page=2"):
        html = _same_as_instances(client, reverse("challenge_cards:home") + page, page[6:] or None).decode()
        assert f"{mine} card" in html and f"{mine} action" in html
        assert theirs not in html
    if who == "delegate":  # drafts are the deputy's to certify
        assert "Waiting for your certification" not in html


def test_kept_sql_keeps_no_date_the_next_days_lists_are_the_next_days(client, world, deputy):
    client.force_login(deputy)
    url = reverse("challenge_cards:home")
    today = _same_as_instances(client, url, None)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=3)):
        later = _same_as_instances(client, url, None)
    assert later != today


# home.html's list of drafts to certify, as the template wrote it before rows.certification_items_html.
DRAFTS_TEMPLATE = (
    "{% for update in to_certify %}"
    '<li><a class="usa-link" href="{{ update.card.get_absolute_url }}#pending-heading">{{ update.card.title }}</a>'
    " — update by {{ update.author.get_full_name|default:update.author.username }}, "
    '{{ update.created_at|date:"M j, Y" }}</li>{% endfor %}'
)


def test_the_drafts_list_written_in_python_is_what_the_template_wrote(world, deputy):
    from django.template import Context, Template

    from challenge_cards.rows import certification_items_html

    instances = list(selectors.awaiting_my_certification(deputy)[:20])
    rows = selectors.certifications_awaiting_me(deputy)
    assert [update.pk for update in rows] == [update.pk for update in instances]
    with timezone.override("Pacific/Kiritimati"):  # a day away from UTC: the dates are the local ones
        written = Template(DRAFTS_TEMPLATE).render(Context({"to_certify": instances}))
        assert written.count("<li>") == 20
        assert certification_items_html(instances) == written
        assert certification_items_html(rows) == written


def test_a_draft_without_an_author_is_listed_not_a_server_error(world, deputy):
    """The column may be empty (the services always fill it); the template's loop failed on it."""
    from challenge_cards.rows import certification_items_html

    instances = list(selectors.awaiting_my_certification(deputy)[:2])
    instances[0].author = None
    with_author = certification_items_html(instances[1:])
    written = certification_items_html(instances)
    assert written.count("<li>") == 2 and written.endswith(with_author)
    assert "— update by an unknown author, " in written
