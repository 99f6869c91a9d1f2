"""The image itself: roles, user, and no trace of the build's extra CA certificates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.compose

CA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "ca-certificates"
PRODUCTION_ENV = [
    "-e", "DJANGO_SECRET_KEY=image-test-" + "x" * 50,
    "-e", "DJANGO_ALLOWED_HOSTS=challenge-cards.example.gov",
    "-e", "DATABASE_URL=postgres://nobody@127.0.0.1:1/none",
    "-e", "CELERY_BROKER_URL=redis://127.0.0.1:1/0",
    "-e", "REDIS_URL=redis://127.0.0.1:1/1",
]  # fmt: skip


def run(image: str, *args: str, env: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "run", "--rm", *(env or []), image, *args], capture_output=True, text=True, timeout=120
    )


def test_runs_as_an_unprivileged_user_with_static_files_collected(image: str):
    result = run(image, "sh", "-c", "id -u; test -f /app/var/staticfiles/staticfiles.json && echo collected")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10001", "collected"]


def test_the_manage_role_runs_django_under_production_settings(image: str):
    result = run(image, "manage", "check", "--deploy", "--fail-level", "ERROR", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified" in result.stdout


def test_the_build_stages_extra_ca_certificates_are_not_in_the_image(image: str):
    extra = sorted(CA_DIR.glob("*.crt"))
    files = run(image, "sh", "-c", "find / -xdev -name '*.crt' -path '*ca-certificates*' 2>/dev/null; true")
    bundle = run(image, "cat", "/etc/ssl/certs/ca-certificates.crt").stdout
    assert "/usr/local/share/ca-certificates/" not in files.stdout
    assert "/app/deploy/ca-certificates" not in files.stdout
    for path in extra:
        body = "".join(line for line in path.read_text().splitlines() if line and not line.startswith("-----"))
        assert body[64:256] not in bundle.replace("\n", ""), f"{path.name} is trusted in the image"
