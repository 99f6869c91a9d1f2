"""Test settings: the local embedded defaults, plus a fast hasher and in-memory e-mail."""

from .local import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# E-mail: Django's test runner keeps it in memory; the Celery workers the tests start get an SMTP sink.
LOGGING = {"version": 1, "disable_existing_loggers": False}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Tests elsewhere travel days ahead in time after signing in; tests/security puts the real timeouts back.
SESSION_IDLE_MINUTES = SESSION_MAX_HOURS = 10**6
SESSION_COOKIE_AGE = 1209600
# The tests run in one process (the browser tests' server is a thread), where the in-process cache is as
# shared as Redis: sessions are read from the cache as in production with Redis.
SESSION_ENGINE = "core.sessions"

# Sign-in policy: tests that are not about sign-in neither accept the system-use notice nor add a second factor;
# tests/security/test_sign_in_policy.py and the MFA tests put both back.
SYSTEM_USE_NOTICE = ""
MFA_REQUIRED_FOR_OMB_ADMINS = False
