"""The compose topology (deploy/compose.yaml) built, started and torn down for the scale-out tests.

These tests need a Docker engine and take minutes, so `make test` leaves them out: they run only when
asked for with `-m compose` (or CC_COMPOSE_TESTS=1), as `.ci/run` does after `scripts/build-image.sh`:

    .venv/bin/pytest tests/deploy -m compose

Asked for, they never skip: no engine, a failed build or a topology that does not come up is a
failure with the reason. Settings (environment):

    CC_COMPOSE_BUILD=0     do not run scripts/build-image.sh first (it is idempotent and quick when
                           the images are there)
    CC_COMPOSE_KEEP=1      leave the topology running after the tests (prints how to remove it)
    CC_COMPOSE_LB_PORT     host port for the load balancer (default: a free one on 127.0.0.1)
    CC_COMPOSE_PROJECT     use this compose project (started with that port) and leave it running:
                           for working on the tests; the default is a new project each session
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
LOG_DIR = ROOT / "var" / "compose-tests"
SIGN_IN_PATH = "/accounts/login/"
NOTICE_PATH = "/accounts/notice/"  # accounts.middleware: the sign-in page redirects here first
DEMO_PASSWORD = "compose-demo-password"
LEAKY_SETTINGS = (
    "DATABASE_URL", "DATABASE_CONN_MAX_AGE", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
    "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_SECURE_SSL_REDIRECT", "TRUSTED_PROXY_COUNT", "SITE_URL",
    "EMAIL_HOST", "EMAIL_PORT", "DEFAULT_FROM_EMAIL", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_REGION_NAME", "POSTGRES_PASSWORD", "LB_FORWARDED_PROTO",
    "LOG_LEVEL",
)  # fmt: skip


def pytest_collection_modifyitems(config, items):
    """Leave the compose tests out unless they were asked for (`-m compose` or CC_COMPOSE_TESTS=1)."""
    asked = "compose" in (config.option.markexpr or "") or os.environ.get("CC_COMPOSE_TESTS") == "1"
    if asked:
        return
    left_out = [item for item in items if item.get_closest_marker("compose")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("compose")]


@pytest.fixture(scope="session", autouse=True)
def _close_stray_test_database_sessions():
    """These tests use the topology's own PostgreSQL, never the test database: nothing to close."""
    yield


def compose_command() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return ["docker", "compose"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    """One running copy of the topology, under its own compose project name."""

    project: str
    port: int
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        command = [*compose_command(), "-f", str(COMPOSE_FILE), "-p", self.project, *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def exec(self, service: str, *command: str, timeout: float = 120, check: bool = True) -> str:
        return self.compose("exec", "-T", service, *command, timeout=timeout, check=check).stdout

    def manage(self, *args: str, service: str = "web1", timeout: float = 300) -> str:
        return self.exec(service, "python3", "manage.py", *args, timeout=timeout)

    def container(self, service: str, index: int = 1) -> str:
        """The container id of a service (the index-th one when it is scaled)."""
        ids = self.compose("ps", "-q", service).stdout.split()
        names = {
            cid: subprocess.run(
                ["docker", "inspect", "-f", "{{.Name}}", cid], capture_output=True, text=True, check=True
            ).stdout.strip()
            for cid in ids
        }
        wanted = f"_{index}"
        for cid, name in names.items():
            if name.endswith(wanted) or name.endswith(f"-{index}"):
                return cid
        raise AssertionError(f"no container {index} of {service} in {names}")

    def psql(self, sql: str) -> list[list[str]]:
        """Rows of a query on the topology's database (unaligned, tab separated)."""
        out = self.exec(
            "postgres",
            "psql",
            "-U",
            "challenge_cards",
            "-d",
            "challenge_cards",
            "-tAF",
            "\t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        )
        return [line.split("\t") for line in out.splitlines() if line]

    def http_inside(self, service: str, method: str, path: str, *, token: str = "", headers=None, body=None) -> dict:
        """A request made inside a web container to its own gunicorn (bypassing the load balancer)."""
        request = {"method": method, "path": path, "token": token, "headers": headers or {}, "body": body}
        out = self.exec(service, "python3", "-c", _HTTP_INSIDE, json.dumps(request))
        return json.loads(out.strip().splitlines()[-1])

    def logs(self, *services: str, tail: int = 200) -> str:
        return self.compose("logs", "--no-color", f"--tail={tail}", *services, check=False).stdout


# Runs inside a web container: one HTTP request to 127.0.0.1:$PORT, printed back as JSON.
_HTTP_INSIDE = r"""
import json, os, sys, urllib.error, urllib.request
spec = json.loads(sys.argv[1])
headers = {"Host": "127.0.0.1", "Accept": "application/json", **spec["headers"]}
if spec["token"]:
    headers["Authorization"] = "Bearer " + spec["token"]
data = None
if spec["body"] is not None:
    data = json.dumps(spec["body"]).encode()
    headers["Content-Type"] = "application/json"
request = urllib.request.Request(
    "http://127.0.0.1:%s%s" % (os.environ.get("PORT", "8000"), spec["path"]),
    data=data, headers=headers, method=spec["method"],
)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        status, response_headers, raw = response.status, dict(response.headers), response.read()
except urllib.error.HTTPError as error:
    status, response_headers, raw = error.code, dict(error.headers), error.read()
try:
    payload = json.loads(raw or b"null")
except ValueError:
    payload = raw.decode(errors="replace")[:2000]
print(json.dumps({"status": status, "headers": response_headers, "json": payload}))
"""


def wait_for(predicate, *, timeout: float, interval: float = 1.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # not there yet
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last!r})")


def sign_in_page_served(stack: Stack) -> bool:
    """The way in answers: the sign-in form, or the system-use notice the sign-in page redirects to first."""
    response = requests.get(stack.url(SIGN_IN_PATH), timeout=10)
    return response.status_code == 200 and ('name="password"' in response.text or NOTICE_PATH in response.url)


def _docker_engine_answers() -> None:
    if not shutil.which("docker"):
        raise AssertionError("No docker client: run scripts/build-image.sh (installs docker.io and starts dockerd).")
    result = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError(
            "No Docker engine answers (`docker info` failed); scripts/build-image.sh starts dockerd:\n" + result.stderr
        )


@pytest.fixture(scope="session")
def image() -> str:
    """The app image, built by scripts/build-image.sh (idempotent) unless CC_COMPOSE_BUILD=0."""
    if os.environ.get("CC_COMPOSE_BUILD", "1") != "0":
        subprocess.run(["bash", str(ROOT / "scripts" / "build-image.sh")], check=True, timeout=1500)
    _docker_engine_answers()
    return os.environ.get("CC_IMAGE", "challenge-cards:local")


@pytest.fixture(scope="session")
def stack(image: str):
    """Start the topology from the built images, wait for the sign-in page through nginx."""
    port = int(os.environ.get("CC_COMPOSE_LB_PORT") or free_port())
    reuse = os.environ.get("CC_COMPOSE_PROJECT", "")
    project = reuse or f"cctest{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    # The host's own settings (CI's DATABASE_URL, a developer's EMAIL_HOST ...) must not leak into the
    # topology through compose's interpolation; image tags and HEALTHCHECK_PATH may be chosen on purpose.
    for name in LEAKY_SETTINGS:
        env.pop(name, None)
    env.update(LB_PORT=str(port), LB_BIND="127.0.0.1", SITE_URL=f"http://127.0.0.1:{port}")
    if not reuse:  # a project started by hand keeps the secrets it was started with (defaults)
        env.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(48), POSTGRES_PASSWORD=secrets.token_urlsafe(16))
    stack = Stack(project=project, port=port, env=env)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        stack.compose("up", "-d", timeout=600)
        wait_for(lambda: sign_in_page_served(stack), timeout=180, interval=1, what="the sign-in page through nginx")
        print(f"\ncompose project {project} serving on {stack.base_url} after {time.monotonic() - started:.0f} s")
        yield stack
    finally:
        (LOG_DIR / f"{project}.log").write_text(stack.logs(tail=2000))
        if reuse or os.environ.get("CC_COMPOSE_KEEP") == "1":
            print(f"\nkept: docker-compose -f {COMPOSE_FILE} -p {project} down -v")
        else:
            stack.compose("down", "-v", "--remove-orphans", "-t", "10", timeout=300, check=False)


@pytest.fixture(scope="session")
def demo(stack: Stack) -> Stack:
    """Demo data loaded once (through web 1) and API tokens for a deputy secretary and an OMB admin."""
    options = ["--password", DEMO_PASSWORD]
    if "--i-know-this-is-production" in stack.manage("seed_demo", "--help"):
        options.append("--i-know-this-is-production")  # production settings refuse demo data otherwise
    stack.manage("seed_demo", *options)
    for username in ("deputy.treasury", "omb.admin"):
        stack.tokens[username] = stack.manage("create_api_token", username).strip().splitlines()[-1].strip()
    return stack
