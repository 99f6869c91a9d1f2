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


# --- The platform probes: /healthz/live and /healthz/ready ---

PROBE_HOST = "10.42.0.17"  # a pod's address, not in ALLOWED_HOSTS


@pytest.fixture
def production_like(settings):
    """What production turns on: only the site's host name is allowed and plain HTTP is redirected."""
    settings.ALLOWED_HOSTS = ["challenge-cards.example.gov"]
    settings.SECURE_SSL_REDIRECT = True
    return settings


def test_live_answers_without_asking_any_dependency(client, broken_database, monkeypatch):
    # No django_db mark: a query from the live probe would raise here.
    _broker_at(monkeypatch, CLOSED_PORT_BROKER)
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_probes_answer_a_pod_address_over_plain_http_while_other_paths_do_not(client, production_like):
    for path in ("/healthz/live", "/healthz/ready"):
        response = client.get(path, HTTP_HOST=PROBE_HOST)
        assert response.status_code == 200, (path, response)
    # Everything else still checks the host and redirects to HTTPS.
    assert client.get("/healthz", HTTP_HOST=PROBE_HOST).status_code == 400
    assert client.get("/accounts/login/", HTTP_HOST=PROBE_HOST).status_code == 400
    redirect = client.get("/healthz/", HTTP_HOST="challenge-cards.example.gov")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    secure = client.get("/healthz/ready", HTTP_HOST="challenge-cards.example.gov", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200


@pytest.mark.django_db
def test_ready_stays_ready_while_the_broker_is_down_and_says_so(client, monkeypatch, production_like):
    _broker_at(monkeypatch, CLOSED_PORT_BROKER)
    response = client.get("/healthz/ready", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["detail"] != "ok"
    assert set(body["checks"]) == {"database", "broker", "redis"}


@pytest.mark.django_db
def test_ready_reports_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/8"
    assert client.get("/healthz/ready").json()["checks"]["redis"] == {"ok": True, "detail": "ok"}
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"ok": False, "detail": "ConnectionError"}


@pytest.mark.django_db
def test_ready_is_unready_without_the_database(client, broken_database, production_like):
    response = client.get("/healthz/ready", HTTP_HOST=PROBE_HOST)
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "OperationalError"}


def test_probes_take_only_get(client):
    assert client.post("/healthz/live", HTTP_HOST=PROBE_HOST).status_code == 405
