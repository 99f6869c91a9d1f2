"""Screenshots of the main pages for docs/screenshots/ (`make screenshots`).

Seeds a throwaway SQLite database with `seed_demo`, runs the development server on a free
port, signs in as the demo users in headless Chromium (Playwright) and saves full-page PNGs.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshot-demo-password"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The server did not answer at {url}.")


# The OMB admin's authenticator app: a TOTP device made for the screenshots' own database (below).
TOTP_KEY = "3132333435363738393031323334353637383930"


def totp_code() -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(bytes.fromhex(TOTP_KEY)).token():06d}"


def sign_in(page: Page, base: str, username: str) -> None:
    """As a person does: the system-use notice, the password, then a code when a second factor is asked."""
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    if page.get_by_role("button", name="I understand and agree").count():
        page.get_by_role("button", name="I understand and agree").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/mfa/" in page.url:
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"  docs/screenshots/{name}.png — {page.title()}")


def _treasury_card(page: Page, base: str) -> None:
    page.goto(f"{base}/initiatives/")
    page.get_by_role("link", name="Pooled hiring: 400 hires").click()
    page.wait_for_load_state()
    page.locator("[data-testid=initiative-agencies] tr", has_text="(TREASURY)").locator(
        "a[href^='/cards/']"
    ).first.click()
    page.wait_for_load_state()


def _comment(page: Page, text: str) -> None:
    page.locator("#id_body").fill(text)
    page.get_by_role("button", name="Post the comment").click()
    page.wait_for_load_state()


def council_pages(page: Page, base: str) -> None:
    """The demo's initiative (as Treasury's deputy), a conversation on its card, and a meeting's record."""
    sign_in(page, base, "deputy.treasury")
    page.goto(f"{base}/initiatives/")
    page.get_by_role("link", name="Pooled hiring: 400 hires").click()
    page.wait_for_load_state()
    shoot(page, "12-initiative")
    _treasury_card(page, base)
    _comment(page, "@delegate.treasury please add this month's hires from the VA certificate.")
    sign_in(page, base, "omb.admin")
    _treasury_card(page, base)
    _comment(page, "Thank you. OPM will share the next pooled certificate on Monday.")
    page.locator("section", has=page.locator("#history-heading")).screenshot(path=str(OUT / "13-conversation.png"))
    page.goto(f"{base}/meetings/")
    page.locator("main a[href^='/meetings/']").last.click()
    page.wait_for_load_state()
    page.get_by_role("link", name=re.compile("meeting’s record")).click()
    page.wait_for_load_state()
    attended = (
        ("Department of the Treasury (TREASURY)", "Wally Adeyemo", "In person"),
        ("Office of Personnel Management (OPM)", "Rob Shriver", "By video"),
    )
    for agency, name, mode in attended:
        page.locator("#id_agency").select_option(label=agency)
        page.locator("#id_name").fill(name)
        page.locator("label.usa-radio__label", has_text=mode).click()
        page.get_by_role("button", name="Record attendance").click()
        page.wait_for_load_state()
    page.locator("#id_minutes").fill("The council reviewed pooled hiring: 265 of 400 hires so far, on pace.")
    page.get_by_role("button", name="Save the minutes").click()
    page.wait_for_load_state()
    shoot(page, "14-meeting-record")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cc-screenshots-") as var_dir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "CC_VAR_DIR": var_dir,
            "DATABASE_URL": f"sqlite:///{var_dir}/screenshots.sqlite3",
            "MEDIA_ROOT": f"{var_dir}/media",
            "CELERY_BROKER_URL": "memory://",
        }
        env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput", "-v0")
        subprocess.run(
            [sys.executable, "manage.py", "seed_demo", "--password", PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # OMB admins sign in with a second factor: give the demo's an authenticator app to type codes from.
        manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            "from django_otp.plugins.otp_totp.models import TOTPDevice; "
            f"TOTPDevice.objects.get_or_create(user=get_user_model().objects.get(username='omb.admin'), "
            f"name='Screenshots', defaults={{'key': '{TOTP_KEY}', 'confirmed': True}})",
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"{base}/healthz")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{base}/accounts/login/")
                shoot(page, "01-sign-in")

                sign_in(page, base, "deputy.treasury")
                shoot(page, "02-home-deputy-secretary")
                # A card with a measurable target shows the most; any card will do if the demo changes.
                card_link = page.locator("main table a[href^='/cards/']", has_text="phone wait")
                if not card_link.count():
                    card_link = page.locator("main table a[href^='/cards/']")
                card_link.first.click()
                page.wait_for_load_state()
                shoot(page, "03-card")
                page.goto(f"{base}/profile/")
                shoot(page, "04-profile")

                sign_in(page, base, "omb.admin")
                page.goto(f"{base}/review/")
                page.set_viewport_size({"width": 1280, "height": 1600})
                shoot(page, "05-review-board", full_page=False)  # the first cards of the compact table
                page.set_viewport_size({"width": 1280, "height": 900})
                page.goto(f"{base}/")
                shoot(page, "15-home-omb")  # OMB's home: counts with links to the filtered board
                close_out = page.get_by_role("link", name=re.compile("^Close out the"))
                if close_out.count():
                    close_out.first.click()
                    page.wait_for_load_state()
                    shoot(page, "16-close-out")
                page.goto(f"{base}/meetings/")
                shoot(page, "06-meetings")
                page.locator("main a[href^='/meetings/']").first.click()
                page.wait_for_load_state()
                shoot(page, "07-meeting")
                page.goto(f"{base}/agencies/")
                shoot(page, "08-agencies")
                page.goto(f"{base}/cards/?overdue=true")
                shoot(page, "11-cards-overdue")
                page.goto(f"{base}/cards/issue/")
                shoot(page, "09-issue-card")
                page.get_by_label("Title").fill("Publish a customer experience action plan")
                page.get_by_label("The ask").fill("Publish your agency's CX action plan and name a CX lead.")
                for label in ("USDA", "HHS", "VA"):
                    page.locator("label.usa-checkbox__label", has_text=re.compile(rf"\({label}\)$")).click()
                page.get_by_label("PMA priority").select_option(index=2)
                page.get_by_role("button", name="Preview recipients").click()
                page.wait_for_load_state()
                shoot(page, "10-issue-card-preview")
                council_pages(page, base)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
