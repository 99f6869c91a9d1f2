"""The main journeys, in a real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from challenge_cards import services
from challenge_cards.models import ActionStatus, CardStatus, CardUpdate, ChallengeCard, Disposition
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_deputy_signs_in_posts_an_update_and_completes_an_action(page, live_server, world):
    card, action = world["card"], world["action"]
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("deputy.treas")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("identity")).to_contain_text("Kevin Park — Deputy secretary, Department of the Treasury")
    expect(page.get_by_test_id("days-to-meeting")).to_contain_text("In 8 days")

    page.get_by_role("link", name="Cut IRS phone wait times").first.click()
    page.get_by_label("Status").select_option("in_progress")
    page.get_by_text("Yellow", exact=True).click()
    page.get_by_role("spinbutton", name=re.compile("Average phone wait")).fill("12")
    page.get_by_label("Note").fill("Hiring is on track; wait times are falling.")
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_text("Your update is posted.")).to_be_visible()
    expect(page.get_by_test_id("metric")).to_contain_text("Value now: 12")

    page.get_by_role("button", name=f"Mark done: {action.description}").click()
    expect(page.get_by_text("Follow-up action marked done.")).to_be_visible()

    card.refresh_from_db()
    action.refresh_from_db()
    assert (card.status, card.agency_rating, card.metric_value) == (CardStatus.IN_PROGRESS, "yellow", 12)
    assert action.status == ActionStatus.DONE

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Challenge Cards")).to_be_visible()
    page.goto(live_server.url + card.get_absolute_url())
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_update_form_works_with_the_keyboard_only(page, live_server, world, sign_in):
    sign_in(world["deputy"]).goto(live_server.url + world["card"].get_absolute_url())

    def tab_to(element_id: str) -> None:
        for _ in range(80):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("id_status")
    page.keyboard.press("ArrowDown")  # not started -> in progress (the select's next option)
    tab_to("id_note")
    page.keyboard.type("Typed with the keyboard only.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Post update"
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your update is posted.")).to_be_visible()
    update = CardUpdate.objects.get(note="Typed with the keyboard only.")
    assert update.status_to == "in_progress"  # the arrow key chose the status, too


@pytest.mark.parametrize("certification_required", [False, True])
def test_delegate_updates_on_behalf_of_the_deputy(page, live_server, world, sign_in, certification_required):
    treasury, card = world["treasury"], world["card"]
    treasury.certification_required = certification_required
    treasury.save()
    sign_in(world["delegate"]).goto(live_server.url + card.get_absolute_url())
    page.get_by_label("Status").select_option("at_risk")
    page.get_by_label("Note").fill("Two hiring actions slipped to next month.")
    page.get_by_role("button", name="Post update").click()
    history = page.locator(".cc-timeline")
    expect(history).to_contain_text("Update by Dana Cole on behalf of Kevin Park")

    card.refresh_from_db()
    if not certification_required:
        expect(page.get_by_text("Your update is posted.")).to_be_visible()
        assert card.status == CardStatus.AT_RISK
        return

    expect(page.get_by_text("saved as a draft")).to_be_visible()
    expect(history).to_contain_text("awaiting the deputy secretary’s certification")
    assert card.status == CardStatus.NOT_STARTED
    # OMB does not see the draft yet.
    sign_in(world["admin"]).goto(live_server.url + card.get_absolute_url())
    expect(page.locator(".cc-timeline")).not_to_contain_text("Two hiring actions slipped")

    sign_in(world["deputy"]).goto(live_server.url + card.get_absolute_url())
    page.get_by_role("button", name="Certify this update").click()
    expect(page.get_by_text("Update certified.")).to_be_visible()
    expect(page.locator(".cc-timeline")).to_contain_text("Certified by Kevin Park")
    expect(page.locator(".cc-timeline")).to_contain_text("by Dana Cole on behalf of Kevin Park")
    card.refresh_from_db()
    assert card.status == CardStatus.AT_RISK


def test_omb_admin_issues_a_card_to_three_agencies_then_reviews_it(page, live_server, world, sign_in):
    sign_in(world["admin"]).goto(live_server.url + "/cards/issue/")
    page.get_by_label("Meeting that issues the card").select_option(str(world["upcoming"].pk))
    page.get_by_label("Title").fill("Publish a CX action plan")
    page.get_by_label("The ask").fill("Publish your agency's customer experience action plan and name a CX lead.")
    for name in ("Department of the Treasury (TREAS)", "Department of Labor (DOL)", "Department of Agriculture (USDA)"):
        page.get_by_text(name, exact=True).click()
    page.get_by_label("PMA priority").select_option(str(world["priority"].pk))
    page.get_by_role("button", name="Preview recipients").click()

    recipients = page.get_by_test_id("recipients")
    for deputy in ("Kevin Park", "Lena Ortiz", "Sam Reyes"):
        expect(recipients).to_contain_text(deputy)
    assert ChallengeCard.objects.filter(title="Publish a CX action plan").count() == 0
    page.get_by_role("button", name="Issue the card").click()
    expect(page.get_by_text("to 3 agencies")).to_be_visible()
    cards = ChallengeCard.objects.filter(title="Publish a CX action plan")
    assert sorted(cards.values_list("agency__abbreviation", flat=True)) == ["DOL", "TREAS", "USDA"]

    target = cards.get(agency=world["labor"])
    page.goto(live_server.url + "/review/")
    row = page.locator(f"#card-{target.pk}")
    row.get_by_label("OMB rating").select_option("yellow")
    row.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review saved for DOL")).to_be_visible()
    # With JavaScript the row is redrawn in place (htmx) and focus moves to its message.
    expect(page.locator(f"#card-{target.pk} [role=status]")).to_be_focused()
    target.refresh_from_db()
    assert (target.omb_rating, target.disposition) == ("yellow", Disposition.OPEN)

    older = world["card"]  # issued at the last meeting: carried over to the next one
    row = page.locator(f"#card-{older.pk}")
    row.get_by_label("OMB rating").select_option("red")
    row.get_by_label("Disposition").select_option("carry_over")
    row.get_by_label("New due date (carry over)").fill("2031-01-15")
    row.get_by_label("Reason").fill("Waiting for the new hiring authority.")
    row.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review saved for TREAS")).to_be_visible()
    older.refresh_from_db()
    assert (older.omb_rating, older.disposition) == ("red", Disposition.CARRIED_OVER)
    assert str(older.carried_over_to.due_date) == "2031-01-15"
    assert older.carried_over_to.meeting == world["upcoming"]


def test_deputy_cannot_reach_another_agencys_card(page, live_server, world, sign_in):
    other = ChallengeCard.objects.create(
        meeting=world["past"],
        agency=world["labor"],
        issued_at=world["past"].starts_at,
        title="Labor's own card",
        ask="Something for Labor.",
        priority=world["priority"],
        due_date=world["card"].due_date,
    )
    response = sign_in(world["deputy"]).goto(live_server.url + other.get_absolute_url())
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Labor's own card")


def test_stale_update_is_refused_and_the_typed_note_survives(page, live_server, world, sign_in):
    card = world["card"]
    sign_in(world["delegate"]).goto(live_server.url + card.get_absolute_url())
    page.get_by_label("Note").fill("My carefully written note about the hiring surge.")
    # Meanwhile the deputy secretary updates the card.
    services.card_update(actor=world["deputy"], card=card, expected_version=card.version, status=CardStatus.IN_PROGRESS)
    page.get_by_role("button", name="Post update").click()

    alert = page.get_by_role("alert").filter(has_text="Someone else updated this card")
    expect(alert).to_be_visible()
    expect(page.get_by_label("Note")).to_have_value("My carefully written note about the hiring surge.")
    expect(page.get_by_label("Status")).to_have_value("in_progress")  # the current card is shown
    assert not CardUpdate.objects.filter(note__startswith="My carefully written").exists()

    page.get_by_role("button", name="Post update").click()  # submitting again now succeeds
    expect(page.get_by_text("Your update is posted.")).to_be_visible()
    assert CardUpdate.objects.filter(note__startswith="My carefully written").exists()


def test_pages_work_without_javascript_on_a_narrow_screen(browser, live_server, world):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 400, "height": 800})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill("deputy.treas")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("link", name="Meetings")).to_be_visible()  # the nav is shown without the menu button
        page.get_by_role("link", name="Cut IRS phone wait times").first.click()
        page.get_by_label("Status").select_option("blocked")
        page.get_by_label("Note").fill("Waiting on the hiring authority.")
        page.get_by_role("button", name="Post update").click()
        expect(page.get_by_text("Your update is posted.")).to_be_visible()
    finally:
        context.close()
    world["card"].refresh_from_db()
    assert world["card"].status == CardStatus.BLOCKED
