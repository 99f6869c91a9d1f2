"""One whole monthly cycle in a real browser, with year-long cards; and no page scrolls sideways at 390 px."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from challenge_cards.models import ChallengeCard, Disposition, Meeting
from notifications.models import Notification
from tests import factories

from .test_accessibility import assert_no_violations


@pytest.fixture
def year_cards(world):
    next_year = timezone.localdate() + datetime.timedelta(days=340)
    return [
        factories.ChallengeCardFactory(
            agency=agency,
            meeting=world["past"],
            priority=world["priority"],
            title=title,
            horizon="year",
            issued_at=world["past"].starts_at,
            due_date=next_year,
        )
        for agency, title in ((world["treasury"], "Hire 400 data scientists"), (world["labor"], "Close out grants"))
    ]


def test_a_whole_cycle_with_year_long_cards(page, live_server, world, year_cards, sign_in):
    due_dates = {card.pk: card.due_date for card in year_cards}
    # The deputy sees what is due before the next meeting, soonest first, with days left.
    sign_in(world["deputy"]).goto(live_server.url + "/")
    due = page.get_by_test_id("due-soon")
    expect(due).to_contain_text("Cut IRS phone wait times")
    expect(due).to_contain_text("Hire 200 customer service representatives")
    expect(due.get_by_test_id("days-left").first).to_have_text(re.compile(r"\d+ days|Due today|1 day"))

    # OMB reviews on the board: a decision saved in place costs one request.
    sign_in(world["admin"]).goto(live_server.url + reverse("challenge_cards:review_board"))
    row = page.locator(f"#card-{year_cards[0].pk}")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    row.get_by_label("OMB rating").select_option("green")
    row.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review saved for TREAS")).to_be_visible()
    assert requests == [f"POST {live_server.url}/cards/{year_cards[0].pk}/review/"]

    # Close-out asks only for the this-month card, says why, and the year-long cards stay open.
    page.goto(live_server.url + reverse("challenge_cards:meeting_close", args=[world["past"].pk]))
    expect(page.get_by_role("heading", name="Needs a decision (1)")).to_be_visible()
    expect(page.get_by_test_id("to-decide")).to_contain_text("Cut IRS phone wait times")
    expect(page.get_by_test_id("to-decide").get_by_test_id("why")).to_contain_text("A this-month card")
    expect(page.get_by_test_id("stay-open")).to_contain_text("Hire 400 data scientists")
    expect(page.get_by_test_id("stay-open")).to_contain_text("after this meeting: it stays open")
    decide = page.get_by_test_id("to-decide")
    decide.get_by_role("combobox", name=re.compile("^Decision")).select_option("continue")
    decide.get_by_label("Reason or note").fill("Hiring continues into next month.")
    decide.get_by_role("button", name="Save the decision").click()
    expect(page.get_by_text("Decision saved for TREAS")).to_be_visible()
    expect(page.get_by_role("heading", name="Needs a decision (0)")).to_be_visible()
    page.get_by_role("button", name="Close the meeting").click()
    expect(page.get_by_text(f"The {world['past'].title} is closed.")).to_be_visible()

    assert Meeting.objects.get(pk=world["past"].pk).closed_at is not None
    for card in ChallengeCard.objects.filter(pk__in=due_dates):
        assert (card.disposition, card.due_date, card.carry_count) == (Disposition.OPEN, due_dates[card.pk], 0)
    assert ChallengeCard.objects.count() == 3  # nothing carried over
    assert not Notification.objects.filter(title__startswith="New challenge card").exists()

    # The next meeting's agenda lists each card once.
    page.goto(live_server.url + reverse("challenge_cards:meeting_packet", args=[world["upcoming"].pk]))
    for card in ChallengeCard.objects.all():
        expect(page.locator(f"#brief-{card.pk}")).to_have_count(1)
    expect(page.get_by_test_id("packet-counts")).to_contain_text("3 open cards")


# The elements that reach past the viewport, for the failure message.
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
  .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""

PAGES_390 = {
    "deputy": ["/", "/cards/", "{card}", "{meeting}", "/scorecard/", "/notifications/", "/notifications/preferences/"],
    "admin": [
        "/",
        "/review/",
        "/cards/",
        "{card}",
        "{meeting}",
        "{close}",
        "{packet}",
        "/scorecard/",
        "/agencies/",
        "/meetings/",
        "/cards/issue/",
        "/notifications/",
    ],
}


def test_no_page_scrolls_sideways_at_390_pixels(page, live_server, world, year_cards, sign_in):
    page.set_viewport_size({"width": 390, "height": 844})
    urls = {
        "card": world["card"].get_absolute_url(),
        "meeting": world["past"].get_absolute_url(),
        "close": reverse("challenge_cards:meeting_close", args=[world["past"].pk]),
        "packet": reverse("challenge_cards:meeting_packet", args=[world["upcoming"].pk]),
    }
    wide = []
    for who, paths in PAGES_390.items():
        sign_in(world[who])
        for path in paths:
            page.goto(live_server.url + path.format(**urls))
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                culprits = page.evaluate(WIDEST)
                wide.append((who, path.format(**urls), width, culprits))
    assert wide == []


def test_the_cycle_pages_have_no_axe_violations(page, live_server, world, year_cards, sign_in):
    sign_in(world["deputy"]).goto(live_server.url + "/")
    assert_no_violations(page, "deputy home with what is due before the next meeting")
    sign_in(world["admin"])
    for path, what in (
        ("/", "OMB home summary"),
        (reverse("challenge_cards:review_board") + "?overdue=on&rating=red", "filtered review board"),
        (reverse("challenge_cards:meeting_close", args=[world["past"].pk]), "close-out"),
        ("/notifications/", "inbox grouped by meeting"),
    ):
        page.goto(live_server.url + path)
        assert_no_violations(page, what)
    page.goto(live_server.url + reverse("challenge_cards:review_board"))
    row = page.locator(f"#card-{year_cards[0].pk}")
    row.locator("input.cc-select").focus()
    page.keyboard.press("Space")  # select a card by keyboard
    expect(row.locator("input.cc-select")).to_be_checked()
