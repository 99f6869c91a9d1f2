"""A real `celery -A config worker` process writes JSON lines, and a task's lines carry the id of the
request that queued it (LOG_FORMAT=json, as in production)."""

from __future__ import annotations

import json

import pytest

from core import logs
from notifications.tasks import scan_reminders
from notifications.testing import Worker, wait_until, worker_env

from .test_worker import broker  # noqa: F401  (the fixture: Redis when CELERY_BROKER_URL is set, else files)

# shared_db first, as in test_worker.py: the rows and the worker share the test database.
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("shared_db")]


def test_a_real_workers_json_lines_carry_the_request_id_of_the_request_that_queued_the_task(
    shared_db,
    broker,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    env = worker_env(
        database_url=shared_db,
        smtp_port=1,
        broker_url=broker.url,
        var_dir=broker.var_dir,
        extra={"DJANGO_SETTINGS_MODULE": "config.settings.local", "LOG_FORMAT": "json"},
    )
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        token = logs.request_context.set({"request_id": "req-page-4711"})
        try:
            scan_reminders.delay()  # as a page or the API would queue it
        finally:
            logs.request_context.reset(token)
        assert wait_until(lambda: "Reminder scan" in worker.log(), 30), worker.log()
    finally:
        worker.stop()
    lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    assert lines, worker.log()
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    scan = [line for line in lines if line["message"].startswith("Reminder scan")]
    assert [(line["logger"], line["request_id"], line["task"]) for line in scan] == [
        ("notifications.tasks", "req-page-4711", "notifications.tasks.scan_reminders")
    ]
