"""With the Content-Security-Policy on, the pages, an htmx swap, the admin and Swagger UI run without a violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser_type_launch_args, page, sign_in, world  # noqa: F401

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def test_no_page_breaks_the_content_security_policy(page, live_server, world, sign_in):  # noqa: F811
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    sign_in(world["admin"])
    card = world["card"]
    visited = []
    for path in [
        "/",
        "/cards/",
        f"/cards/{card.pk}/",
        "/meetings/",
        "/review/",
        "/admin/",
        f"/admin/challenge_cards/challengecard/{card.pk}/change/",
        "/admin/audit/auditevent/",
        "/api/v1/docs/",
    ]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status < 400, path
        assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}, path
        page.wait_for_load_state("load")
        if path == "/api/v1/docs/":
            page.get_by_text("Challenge Cards API").first.wait_for()  # Swagger UI rendered the schema
        violations = page.evaluate("window.__csp")
        assert violations == [], f"{path}: {violations}"
        visited.append(path)
    # An htmx swap: a review saved on the board redraws its row in place, under the same policy.
    page.goto(live_server.url + "/review/")
    row = page.locator(f"#card-{card.pk}")
    row.get_by_label("OMB rating").select_option("yellow")
    with page.expect_request(lambda request: request.headers.get("hx-request") == "true"):
        row.get_by_role("button", name="Save review").click()
    expect(page.locator(f"#card-{card.pk} [role=status]")).to_be_focused()
    assert page.evaluate("window.__csp") == []
    csp_console = [text for text in console if "Content Security Policy" in text]
    assert csp_console == []
    assert len(visited) == 9
