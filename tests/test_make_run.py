"""`make run` on embedded defaults: migrates, seeds and serves the pages, no servers needed."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _through_the_notice(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """The way in as a browser takes it: the sign-in page sends a new visitor to the system-use notice;
    agreeing leads back to the sign-in form: the browser, and the form's page."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(f"{base}/accounts/login/", timeout=10) as response:
        notice = response.read().decode()
        assert "/accounts/notice/" in response.url and "I understand and agree" in notice
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": _csrf(notice), "next": "/accounts/login/"}).encode()
    request = urllib.request.Request(f"{base}/accounts/notice/", data=form, headers={"Referer": f"{base}/"})
    with browser.open(request, timeout=10) as response:
        return browser, response.read().decode()


def _csrf(page: str) -> str:
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page[-2000:]
    return token.group(1)


def _signed_in_home(base: str, username: str, password: str) -> str:
    """The home page a demo user lands on after signing in with the form."""
    browser, sign_in = _through_the_notice(base)
    fields = {"csrfmiddlewaretoken": _csrf(sign_in), "username": username, "password": password, "next": "/"}
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=urllib.parse.urlencode(fields).encode(), headers={"Referer": f"{base}/"}
    )
    with browser.open(request, timeout=10) as response:
        assert urllib.parse.urlsplit(response.url).path == "/", response.url
        return response.read().decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.celery_worker
def test_run_serves_sign_in_page_on_sqlite_and_file_broker(tmp_path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(CC_VAR_DIR=str(tmp_path), PORT=str(port), DEMO_PASSWORD="smoke-test-password")
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/live", timeout=5):
                    break
            except OSError:
                time.sleep(1)
        output = (tmp_path / "run.log").read_text()
        _browser, body = _through_the_notice(f"http://127.0.0.1:{port}")
        assert "Sign in" in body and 'name="password"' in body, output[-3000:]
        assert "deputy.treasury" in output
        # A deputy secretary's home (its follow-up actions' query once took a UNION SQLite refuses: a 500).
        home = _signed_in_home(f"http://127.0.0.1:{port}", "deputy.treasury", "smoke-test-password")
        assert "Your agency’s challenge cards" in home and "Open cards by meeting" in home, home[-3000:]
        assert (tmp_path / "challenge_cards.sqlite3").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
