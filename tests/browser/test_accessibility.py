"""axe-core finds no violations on any page type, in the states people see (including form errors)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser

AXE = Axe()


def assert_no_violations(page, what: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def test_every_page_type_has_no_axe_violations(page, live_server, world, sign_in):
    base = live_server.url
    card, action = world["card"], world["action"]
    titles: dict[str, str] = {}

    def check(path: str, what: str) -> None:
        page.goto(base + path)
        titles[page.title()] = what
        assert_no_violations(page, what)

    page.goto(base + "/accounts/login/")
    # The vendored USWDS stylesheet is served by the app itself, so colour contrast is checked on the real look.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.usa-banner')).backgroundColor") != "rgba(0, 0, 0, 0)"
    )
    assert_no_violations(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    assert_no_violations(page, "sign-in with errors")
    check("/accounts/password_reset/", "password reset")

    sign_in(world["deputy"])
    check("/", "home")
    check(card.get_absolute_url(), "card page")
    page.get_by_text("Add a follow-up action").click()
    page.get_by_text("Add evidence: a file or a link").click()
    expect(page.get_by_role("button", name="Add evidence")).to_be_visible()
    assert_no_violations(page, "card page with the add forms open")
    page.get_by_label("Status").select_option("at_risk")
    page.get_by_role("button", name="Post update").click()
    expect(page.locator("#id_note-error")).to_be_visible()
    assert_no_violations(page, "card page with form errors")
    page.set_viewport_size({"width": 400, "height": 800})  # phone width: stacked tables, mobile menu
    for path in ("/", card.get_absolute_url()):
        page.goto(base + path)
        assert_no_violations(page, f"{path} on a narrow screen")
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("link", name="Meetings")).to_be_visible()
    assert_no_violations(page, "mobile menu open")
    page.set_viewport_size({"width": 1280, "height": 720})
    check(f"/actions/{action.pk}/", "follow-up action page")
    check("/cards/", "card list")
    check(world["past"].get_absolute_url(), "meeting page")
    check("/meetings/", "meetings")
    check("/profile/", "profile")
    response = page.goto(base + "/cards/999999/")
    assert response is not None and response.status == 404
    titles[page.title()] = "not found"
    assert_no_violations(page, "not found")

    sign_in(world["admin"])
    page.goto(base + "/meetings/")
    assert_no_violations(page, "meetings (OMB admin, with the schedule form)")
    check("/review/", "review board")
    check(f"/cards/{card.pk}/review/", "card review")
    check("/agencies/", "agencies")
    check("/cards/issue/", "issue a card")
    page.get_by_role("button", name="Preview recipients").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()
    assert_no_violations(page, "issue a card with errors")
    page.get_by_label("Title").fill("Publish a CX action plan")
    page.get_by_label("The ask").fill("Publish the plan.")
    page.get_by_text("Issue to all active agencies").click()
    page.get_by_label("PMA priority").select_option(str(world["priority"].pk))
    page.get_by_role("button", name="Preview recipients").click()
    expect(page.get_by_test_id("recipients")).to_be_visible()
    assert_no_violations(page, "issue preview")

    viewer = factories.omb_viewer(user__username="omb.viewer")
    sign_in(viewer)
    response = page.goto(base + "/cards/issue/")
    assert response is not None and response.status == 403
    assert_no_violations(page, "forbidden")
    # Every page type has its own <title>.
    assert len(titles) == 13, titles
