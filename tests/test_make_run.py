"""`make run` on embedded defaults: migrates, seeds and serves the sign-in page, no servers needed."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(1)
        output = (tmp_path / "run.log").read_text()
        assert "Sign in" in body, output[-3000:]
        assert "deputy.treasury" in output
        assert (tmp_path / "challenge_cards.sqlite3").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
