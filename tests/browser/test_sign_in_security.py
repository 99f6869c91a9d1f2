"""Sign-in security in Chromium: the system-use notice, an OMB admin's authenticator app (codes computed here)
and security key (Chromium's virtual authenticator), recovery codes, and the policy pages; axe on each page."""

from __future__ import annotations

import base64
import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from audit.models import AuditEvent
from config.settings import base
from tests import factories

pytestmark = pytest.mark.browser

AXE = Axe()


def assert_no_violations(page, what: str) -> None:
    results = AXE.run(page)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


@pytest.fixture
def admin(transactional_db, settings, live_server):
    settings.SYSTEM_USE_NOTICE = base.SYSTEM_USE_NOTICE
    settings.MFA_REQUIRED_FOR_OMB_ADMINS = True
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    return factories.omb_admin(user__username="omb.admin", user__first_name="Olivia", user__last_name="Marchetti")


def code(key: str, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(key.replace(" ", "")))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def sign_in_with_password(page, base_url: str, check_axe: bool = False) -> None:
    """Through the notice and the password form, as a person would."""
    page.goto(base_url + "/accounts/login/")
    expect(page.get_by_test_id("system-use-notice")).to_contain_text("U.S. Government information system")
    expect(page.get_by_label("Password")).to_have_count(0)
    if check_axe:
        assert_no_violations(page, "system-use notice")
    page.get_by_role("button", name="I understand and agree").click()
    page.get_by_label("Username").fill("omb.admin")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/|/accounts/notice/"))


def test_an_omb_admin_adds_an_authenticator_app_and_signs_in_with_a_code(page, live_server, admin):
    url = live_server.url
    sign_in_with_password(page, url, check_axe=True)
    expect(page.get_by_test_id("must-enrol")).to_be_visible()
    assert_no_violations(page, "sign-in security (must add a second factor)")
    page.goto(url + "/cards/")  # nothing else opens yet
    expect(page).to_have_url(re.compile(r"/accounts/mfa/setup/"))

    page.get_by_role("link", name="Add an authenticator app").click()
    key = page.get_by_test_id("totp-key").inner_text()
    assert_no_violations(page, "add an authenticator app")
    page.get_by_label("Name for this app").fill("Work phone")
    page.get_by_label("Code from the app").fill(code(key))
    page.get_by_role("button", name="Add the app").click()
    expect(page.get_by_role("heading", name="Save these codes now")).to_be_visible()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    assert_no_violations(page, "recovery codes")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_test_id("apps")).to_contain_text("Work phone")
    assert_no_violations(page, "sign-in security with an app")
    sign_out(page)

    # A new session: the notice again, the password, then a code.
    sign_in_with_password(page, url)
    expect(page.get_by_role("heading", name="Confirm it’s you")).to_be_visible()
    assert_no_violations(page, "second step")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#id_code-error")).to_contain_text("That code did not work")
    assert_no_violations(page, "second step with an error")
    time.sleep(1.1)  # django-otp makes the next try wait after a failure
    page.get_by_label("Code").fill(code(key, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(url + "/")
    expect(page.get_by_test_id("identity")).to_contain_text("Olivia Marchetti")
    assert AuditEvent.objects.filter(action="auth.second_factor", actor=admin, details={"kind": "totp"}).exists()


def test_an_omb_admin_adds_a_security_key_and_signs_in_with_it(page, live_server, admin):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    url = live_server.url
    sign_in_with_password(page, url)
    page.get_by_role("button", name="Add a security key or passkey").click()
    expect(page.get_by_role("heading", name="Save these codes now")).to_be_visible()
    assert WebAuthnCredential.objects.filter(user=admin, confirmed=True).count() == 1
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_test_id("keys")).to_be_visible()
    sign_out(page)

    sign_in_with_password(page, url)
    expect(page.get_by_role("button", name="Use my security key or passkey")).to_be_visible()
    assert_no_violations(page, "second step with a security key")
    page.get_by_role("button", name="Use my security key or passkey").click()
    expect(page).to_have_url(url + "/")
    page.goto(url + "/cards/")
    expect(page).to_have_url(url + "/cards/")
    assert AuditEvent.objects.filter(action="auth.second_factor", actor=admin, details={"kind": "webauthn"}).exists()
    assert AuditEvent.objects.filter(
        action="auth.second_factor_changed", actor=admin, details={"kind": "webauthn", "change": "added"}
    ).exists()


def test_the_policy_pages_are_linked_from_every_footer(page, live_server, transactional_db):
    page.goto(live_server.url + "/accounts/login/")
    for link, heading in (
        ("Accessibility statement", "Accessibility statement"),
        ("Privacy", "Privacy"),
        ("Vulnerability disclosure policy", "Vulnerability disclosure policy"),
    ):
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_no_violations(page, heading)


def test_single_sign_on_only_and_the_emergency_form(page, live_server, transactional_db, settings):
    settings.SSO_ENABLED = True
    settings.PASSWORD_SIGN_IN = False
    settings.BREAK_GLASS_USERNAMES = ["omb.admin"]
    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_role("link", name="Sign in with Login.gov")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    assert_no_violations(page, "sign-in, single sign-on only")
    page.get_by_role("link", name="emergency sign-in").click()
    expect(page.get_by_role("heading", name="Emergency sign-in for OMB administrators")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    assert_no_violations(page, "emergency sign-in")


def test_the_audit_export_page(page, live_server, transactional_db, sign_in):
    sign_in(factories.omb_admin(user__username="omb.admin"))
    page.goto(live_server.url + "/audit/export/")
    assert_no_violations(page, "audit export")
    page.get_by_label("From (UTC date)").fill("2026-11-30")
    page.get_by_label("To (UTC date, included)").fill("2026-11-01")
    page.get_by_role("button", name="Download JSON lines").click()
    expect(page.get_by_role("alert")).to_contain_text("must not be after")
    assert_no_violations(page, "audit export with an error")
    page.get_by_label("To (UTC date, included)").fill("2026-12-01")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON lines").click()
    assert download.value.suggested_filename == "audit-2026-11-30-to-2026-12-01.jsonl"
