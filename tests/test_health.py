"""GET /healthz answers 200 only when both the database and the Celery broker answer."""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

from core import health

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"
REDIS_BROKER = "redis://127.0.0.1:6379/4"


def _broker_at(monkeypatch, url: str) -> None:
    """Point the health check's Celery app at a real broker URL."""
    connect = health.celery_app.connection_for_write
    monkeypatch.setattr(health.celery_app, "connection_for_write", lambda: connect(url=url))


@pytest.fixture
def broken_database(monkeypatch):
    """A real database connection that cannot open: an SQLite file in a directory that does not exist."""
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/nonexistent/dir/x.db",
        "OPTIONS": {},
    }
    broken = SQLiteWrapper(settings_dict, alias="broken")
    monkeypatch.setattr(health, "connection", broken)
    yield broken
    broken.close()


@pytest.mark.django_db
def test_healthy_with_the_configured_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True, "detail": "ok"}, "broker": {"ok": True, "detail": "ok"}},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthy_with_redis(client, monkeypatch):
    _broker_at(monkeypatch, REDIS_BROKER)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "detail": "ok"}


@pytest.mark.django_db
def test_unreachable_broker_is_503(client, monkeypatch):
    _broker_at(monkeypatch, CLOSED_PORT_BROKER)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["detail"] != "ok"


@pytest.mark.django_db
def test_failing_database_is_503(client, broken_database):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["checks"]["broker"] == {"ok": True, "detail": "ok"}


@pytest.mark.django_db
def test_check_functions_report_the_error_name(broken_database, monkeypatch):
    _broker_at(monkeypatch, CLOSED_PORT_BROKER)
    assert health.check_database() == (False, "OperationalError")
    ok, detail = health.check_broker(timeout=1)
    assert not ok
    assert detail.endswith("Error")


@pytest.mark.django_db
def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405
