"""Logs, metrics and error reporting: JSON lines with the request id (into Celery tasks too), one access
line per request, Prometheus metrics behind a token or a network, and Sentry silent unless configured."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import redis
from django.utils import timezone

from core import logs
from notifications.models import Notification

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_lines():
    """The JSON lines the root logger writes while the test runs (the formatter and filter LOGGING names)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.django_db
def test_one_json_access_line_per_request_with_the_callers_request_id(client, deputy, log_lines):
    client.force_login(deputy)
    response = client.get("/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a.42"
    access = [line for line in log_lines() if line["logger"] == "challenge_cards.access"]
    assert len(access) == 1
    line = access[0]
    assert line["level"] == "INFO"
    assert line["request_id"] == "lb-7f3a.42"
    assert line["user_id"] == deputy.pk
    assert line["path"] == "/"
    assert line["method"] == "GET" and line["status"] == 200
    assert line["view"] == "challenge_cards:home"
    assert line["duration_ms"] > 0 and line["db_queries"] > 0
    assert line["message"].startswith("GET / 200 ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", line["time"])


@pytest.mark.django_db
def test_an_insane_request_id_is_replaced_and_every_line_of_the_request_carries_it(client, log_lines):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    lines = log_lines()
    # Django's own "Not Found" warning and our access line: the same request id, no user.
    assert {line["logger"] for line in lines} >= {"django.request", "challenge_cards.access"}
    assert {line["request_id"] for line in lines} == {request_id}
    assert [line["user_id"] for line in lines if line["logger"] == "challenge_cards.access"] == [None]


def _import_settings(module: str, script: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DJANGO_SECRET_KEY": "a-real-secret-for-this-test-only",
        "DJANGO_ALLOWED_HOSTS": "challenge-cards.example.gov",
        "DATABASE_URL": "postgres://cc@db.example.gov:5432/cc",
        "CELERY_BROKER_URL": "redis://redis.example.gov:6379/0",
        "REDIS_URL": "redis://redis.example.gov:6379/1",
    }
    return subprocess.run(
        [sys.executable, "-c", f"import config.settings.{module} as s; {script}"],
        cwd=PROJECT_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_log_format_is_json_in_production_and_text_locally_and_switchable():
    script = "print(s.LOGGING['formatters']['default'])"
    production = _import_settings("production", script)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == str({"()": "core.logs.JsonFormatter"})
    assert "request_id" in _import_settings("local", script).stdout
    assert _import_settings("production", script, LOG_FORMAT="text").stdout.strip().startswith("{'format':")
    refused = _import_settings("production", script, LOG_FORMAT="xml")
    assert refused.returncode != 0 and "LOG_FORMAT is json or text" in refused.stderr


def test_a_mistyped_metrics_network_stops_the_start():
    refused = _import_settings("production", "print(1)", METRICS_ALLOWED_NETWORKS="10.0.0.0/8,10.0.0.300/32")
    assert refused.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS: '10.0.0.300/32' is not a network" in refused.stderr
    accepted = _import_settings(
        "production", "print(s.METRICS_ALLOWED_NETWORKS)", METRICS_ALLOWED_NETWORKS="10.0.0.0/8"
    )
    assert accepted.stdout.strip() == "['10.0.0.0/8']"


def test_a_production_process_writes_json_lines_with_the_request_id():
    script = (
        "import django, logging; django.setup(); from core import logs; "
        "logs.request_context.set({'request_id': 'req-1'}); logging.getLogger('cc.test').warning('hello')"
    )
    result = _import_settings("production", script, DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert {key: line[key] for key in ("level", "logger", "message", "request_id")} == {
        "level": "WARNING",
        "logger": "cc.test",
        "message": "hello",
        "request_id": "req-1",
    }
    assert "time" in line


# --- The request id in Celery tasks ---

LOGGED_IN_TASK: list[dict] = []


@pytest.mark.celery_worker
def test_the_request_id_travels_into_the_celery_tasks_log_lines(settings):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    # On the task's own logger: the worker takes the root logger's handlers over when it starts.
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestContextFilter())
    task_logger = logging.getLogger("cc.task")
    task_logger.addHandler(handler)
    task_logger.setLevel(logging.INFO)
    task_logger.propagate = False

    def log_lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("This test needs CELERY_BROKER_URL on Redis (as CI sets it).")

    @app.task(name="tests.observability.log_something")
    def log_something() -> str:
        logging.getLogger("cc.task").info("working")
        return logs.current_request_id() or ""

    app.loader.import_default_modules()
    with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
        token = logs.request_context.set({"request_id": "req-from-page-9"})
        try:
            result = log_something.apply_async(ignore_result=False)
        finally:
            logs.request_context.reset(token)
        # Celery's results are ignored by this project: wait for the line instead.
        for _ in range(100):
            task_lines = [line for line in log_lines() if line["logger"] == "cc.task"]
            if task_lines:
                break
            threading.Event().wait(0.1)
    task_logger.removeHandler(handler)
    task_logger.propagate = True
    assert result.id
    assert [(line["message"], line["request_id"], line["task"]) for line in task_lines] == [
        ("working", "req-from-page-9", "tests.observability.log_something")
    ]


def test_a_task_published_outside_a_request_logs_under_its_own_id():
    class Request:
        headers = None

    class Task:
        name = "t"
        request = Request()

    logs.set_task_context(task_id="5d1c6a0e-task-id", task=Task())
    try:
        assert logs.current_request_id() == "5d1c6a0e-task-id"
    finally:
        logs.clear_task_context()
    headers: dict = {}
    logs.add_request_id_to_message(headers=headers)
    assert headers == {}


# --- Metrics ---


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = "scrape-token-for-tests"
    settings.METRICS_ALLOWED_NETWORKS = []
    return settings


def _scrape(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def _value(text: str, sample: str) -> float:
    match = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    assert match, sample
    return float(match.group(1))


@pytest.mark.django_db
def test_metrics_are_off_unless_a_token_or_network_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_need_the_token_or_an_allowed_network(client, metrics_on):
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    # A scrape of one instance by its address, over plain HTTP, like the probes.
    metrics_on.ALLOWED_HOSTS = ["challenge-cards.example.gov"]
    metrics_on.SECURE_SSL_REDIRECT = True
    _scrape(client, HTTP_AUTHORIZATION="Bearer scrape-token-for-tests", HTTP_HOST="10.42.0.17")
    # Or from an allowed network (the test client comes from 127.0.0.1), without the token.
    metrics_on.METRICS_TOKEN = ""
    metrics_on.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403
    metrics_on.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "127.0.0.0/8"]
    _scrape(client)


@pytest.mark.django_db
def test_metrics_report_latency_and_queries_by_view(client, deputy, metrics_on):
    auth = {"HTTP_AUTHORIZATION": "Bearer scrape-token-for-tests"}
    before = _scrape(client, **auth)
    count = 'cc_http_request_duration_seconds_count{method="GET",view="challenge_cards:home"}'
    queries = 'cc_http_request_db_queries_count{view="challenge_cards:home"}'
    start = _value(before, count) if count in before else 0.0
    client.force_login(deputy)
    for _ in range(3):
        assert client.get("/").status_code == 200
    text = _scrape(client, **auth)
    assert _value(text, count) == start + 3
    assert _value(text, queries) >= 3
    assert _value(text, 'cc_http_request_db_queries_sum{view="challenge_cards:home"}') > 0
    assert 'cc_http_requests_total{method="GET",status="200",view="challenge_cards:home"}' in text


@pytest.mark.django_db
def test_metrics_report_the_outbox_failures_and_the_celery_queue(client, deputy, metrics_on):
    now = timezone.now()
    for minutes, status in ((30, "pending"), (5, "pending"), (60, "failed"), (90, "sent")):
        Notification.objects.create(
            rule="card_issued",
            subject=f"card:{minutes}",
            recipient=deputy,
            occurrence="issued",
            title="A card",
            status=status,
            created_at=now - timezone.timedelta(minutes=minutes),
        )
    queue = "cc-test-metrics-queue"
    metrics_on.CELERY_TASK_DEFAULT_QUEUE = queue
    broker = redis.Redis.from_url(metrics_on.CELERY_BROKER_URL)
    broker.delete(queue)
    broker.lpush(queue, "a", "b", "c")
    try:
        text = _scrape(client, HTTP_AUTHORIZATION="Bearer scrape-token-for-tests")
    finally:
        broker.delete(queue)
        broker.close()
    assert _value(text, 'cc_notifications_outbox_size{kind="email"}') == 2
    assert _value(text, 'cc_notifications_outbox_size{kind="webhook"}') == 0
    assert 30 * 60 <= _value(text, 'cc_notifications_outbox_oldest_age_seconds{kind="email"}') < 31 * 60
    assert _value(text, 'cc_notifications_failed{kind="email"}') == 1
    assert _value(text, f'cc_celery_queue_length{{queue="{queue}"}}') == 3


def test_metrics_from_several_gunicorn_workers_add_up(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, what two worker processes counted is in one scrape."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    observe = "from core import metrics; metrics.observe_request('x:page', 'GET', 200, 0.2, 4)"
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", observe], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    scrape = (
        "import django; django.setup(); from core import metrics; "
        "from prometheus_client import CollectorRegistry, generate_latest; "
        "r = CollectorRegistry(auto_describe=False); r.register(metrics._AtScrape.__new__(metrics._AtScrape)); "
        "metrics._collector_classes = lambda: (); print(generate_latest(r).decode())"
    )
    result = subprocess.run([sys.executable, "-c", scrape], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert _value(result.stdout, 'cc_http_request_duration_seconds_count{method="GET",view="x:page"}') == 2
    assert _value(result.stdout, 'cc_http_request_db_queries_sum{view="x:page"}') == 8


# --- Sentry ---


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def ingest():
    _Ingest.received = []
    server = HTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _report_an_error(**env: str) -> subprocess.CompletedProcess:
    script = (
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active()); "
        "sentry_sdk.capture_exception(RuntimeError('boom')); sentry_sdk.flush(5)"
    )
    return _import_settings("production", script, DJANGO_SETTINGS_MODULE="config.settings.production", **env)


def test_errors_go_to_sentry_only_when_a_dsn_is_set(ingest):
    port = ingest.server_address[1]
    quiet = _report_an_error()
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip() == "False"
    assert _Ingest.received == []
    reported = _report_an_error(SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1", SENTRY_ENVIRONMENT="ci")
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout.strip() == "True"
    assert len(_Ingest.received) == 1 and b"boom" in _Ingest.received[0]
    assert b'"environment":"ci"' in _Ingest.received[0]
