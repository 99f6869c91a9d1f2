"""What the benchmarks of the suite share beyond card_list.py's helpers (database, gunicorn, token).

Redis: the suite uses its own Redis database (BENCH_REDIS_URL, default db 12) for the app's cache,
sessions, throttle and broker, so it does not touch what other processes keep in other databases.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

import card_list

BASE_DIR = card_list.BASE_DIR
OUT_DIR = BASE_DIR / "var" / "bench"
# A secret shared by the sessions made in-process and the gunicorn servers that must read them.
SECRET_KEY = os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(40))


def server_env() -> dict[str, str]:
    """What every gunicorn server of the suite gets on top of card_list.start_gunicorn's settings."""
    redis_url = card_list.bench_redis_url()
    return {
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "CC_VAR_DIR": str(OUT_DIR / "var"),
    }


def collect_static(url: str) -> None:
    """Production settings serve pages only with collected static files (the manifest); once per suite run."""
    if os.environ.get("BENCH_STATIC_READY") == "1":
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        check=True,
        env={
            **os.environ,
            **server_env(),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": url,
        },
    )


def request(port: int, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple:
    """(status, headers, body, milliseconds) of one request on a new connection; status 0 on a socket error."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), data, (time.perf_counter() - start) * 1000
    except OSError:
        return 0, {}, b"", (time.perf_counter() - start) * 1000
    finally:
        connection.close()


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(card_list.percentile(values, 0.50), 1),
        "p95_ms": round(card_list.percentile(values, 0.95), 1),
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def write_json(name: str, report: dict) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / name
    path.write_text(json.dumps(report, indent=2, default=str))
    return path


def stop(servers: list) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
