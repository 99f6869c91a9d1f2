"""Production settings fail fast on a missing secret; they never fall back to a development default."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "a-real-secret-for-this-test-only",
    "DJANGO_ALLOWED_HOSTS": "challenge-cards.example.gov",
    "DATABASE_URL": "postgres://cc@db.example.gov:5432/cc",
    "CELERY_BROKER_URL": "redis://redis.example.gov:6379/0",
    "REDIS_URL": "redis://redis.example.gov:6379/1",
}


def _import_production(
    script: str = "print(s.SECRET_KEY, s.DEBUG, s.ALLOWED_HOSTS)", **env: str
) -> subprocess.CompletedProcess:
    """Import config.settings.production (as s) in a fresh interpreter with only the given environment."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(PROJECT_ROOT), **env}
    script = "import config.settings.production as s; " + script
    return subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_production_imports_with_every_secret_set():
    result = _import_production("print(s.SECRET_KEY, s.DEBUG, s.ALLOWED_HOSTS, s.PRODUCTION)", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "a-real-secret-for-this-test-only",
        "False",
        "['challenge-cards.example.gov']",
        "True",
    ]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY must be set in production."),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS must list this site's host names in production."),
        ("DATABASE_URL", "DATABASE_URL must be set in production."),
        ("CELERY_BROKER_URL", "CELERY_BROKER_URL must be set in production."),
        ("REDIS_URL", "REDIS_URL must be set in production."),
    ],
)
def test_production_refuses_to_start_without(missing, message):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = _import_production(**env)
    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr


def test_an_empty_secret_key_is_refused():
    result = _import_production(**{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set in production." in result.stderr


def test_production_turns_on_the_security_headers():
    script = (
        "import config.settings.production as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(PROJECT_ROOT), **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True"]


def test_production_reads_sessions_from_the_cache_only_when_the_cache_is_redis():
    # Production requires REDIS_URL; without it (local settings) sessions are read from the database only.
    production = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    for module, extra, engine in (
        ("local", {}, "django.contrib.sessions.backends.db"),
        ("production", {"REDIS_URL": "redis://r:6379/1"}, "core.sessions"),
    ):
        script = f"import config.settings.{module} as s; print(s.SESSION_ENGINE)"
        clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(PROJECT_ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=PROJECT_ROOT,
            env={**clean, **production, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == engine


def test_database_options_from_the_url_are_kept_beside_prepared_statements():
    url = "postgres://cc@db.example.gov:5432/cc?sslmode=verify-full&sslrootcert=/etc/ssl/rds.pem"
    env = {**PRODUCTION_ENV, "DATABASE_URL": url, "DATABASE_PREPARED_STATEMENTS": "false"}
    result = _import_production("print(sorted(s.DATABASES['default']['OPTIONS'].items()))", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "[('prepare_threshold', None), ('server_side_binding', True), "
        "('sslmode', 'verify-full'), ('sslrootcert', '/etc/ssl/rds.pem')]"
    )


def test_production_mail_goes_to_the_smtp_relay_and_gives_up_after_30_seconds():
    env = {**PRODUCTION_ENV, "EMAIL_HOST": "relay.example.gov", "EMAIL_PORT": "587"}
    result = _import_production("print(s.MAILERS)", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        {
            "default": {
                "BACKEND": "core.mail.SMTPBackend",
                "OPTIONS": {"host": "relay.example.gov", "port": 587, "timeout": 30},
            }
        }
    )


def test_production_mail_through_a_relay_that_wants_starttls_a_password_and_its_own_authority():
    env = {
        **PRODUCTION_ENV,
        "EMAIL_HOST": "relay.example.gov",
        "EMAIL_USE_TLS": "true",
        "EMAIL_HOST_USER": "cc-mailer",
        "EMAIL_HOST_PASSWORD": "relay-secret",
        "EMAIL_SSL_CAFILE": "/etc/ssl/agency-ca.pem",
        "EMAIL_SSL_CERTFILE": "/etc/ssl/cc-client.pem",
        "EMAIL_SSL_KEYFILE": "/etc/ssl/cc-client.key",
    }
    result = _import_production("print(sorted(s.MAILERS['default']['OPTIONS'].items()))", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        sorted(
            {
                "host": "relay.example.gov",
                "port": 587,  # STARTTLS's port unless EMAIL_PORT says otherwise
                "timeout": 30,
                "username": "cc-mailer",
                "password": "relay-secret",
                "use_tls": True,
                "use_ssl": False,
                "ssl_cafile": "/etc/ssl/agency-ca.pem",
                "ssl_certfile": "/etc/ssl/cc-client.pem",
                "ssl_keyfile": "/etc/ssl/cc-client.key",
            }.items()
        )
    )
    tls = _import_production("print(s.MAILERS['default']['OPTIONS']['port'])", **PRODUCTION_ENV, EMAIL_USE_SSL="1")
    assert tls.stdout.strip() == "465"


def test_starttls_and_tls_from_the_start_are_not_both_asked_for():
    result = _import_production(**PRODUCTION_ENV, EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL" in result.stderr


def test_evidence_goes_to_object_storage_when_a_bucket_is_named():
    script = "import json; print(json.dumps(s.STORAGES['default']))"
    local = _import_production(script, **PRODUCTION_ENV)
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}

    expected_options = {
        "bucket_name": "cc-evidence",
        "endpoint_url": "http://minio.internal:9000",
        "region_name": "us-east-1",
        "access_key": "cc-access",
        "secret_key": "cc/secret",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
    }
    from_variables = _import_production(
        script,
        **PRODUCTION_ENV,
        AWS_STORAGE_BUCKET_NAME="cc-evidence",
        AWS_S3_ENDPOINT_URL="http://minio.internal:9000",
        AWS_ACCESS_KEY_ID="cc-access",
        AWS_SECRET_ACCESS_KEY="cc/secret",
        AWS_S3_REGION_NAME="us-east-1",
    )
    assert from_variables.returncode == 0, from_variables.stderr
    assert json.loads(from_variables.stdout) == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": expected_options,
    }
    from_url = _import_production(
        script,
        **PRODUCTION_ENV,
        STORAGE_URL="s3+http://cc-access:cc%2Fsecret@minio.internal:9000/cc-evidence?region=us-east-1",
    )
    assert from_url.returncode == 0, from_url.stderr
    assert json.loads(from_url.stdout) == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": expected_options}
    # On Amazon S3 itself with the pod's role: only the bucket, the rest boto3 finds.
    aws = _import_production(script, **PRODUCTION_ENV, AWS_STORAGE_BUCKET_NAME="cc-evidence")
    options = json.loads(aws.stdout)["OPTIONS"]
    assert (options["endpoint_url"], options["access_key"], options["addressing_style"]) == (None, None, None)
