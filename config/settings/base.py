"""Settings shared by every environment, read from the environment."""

import datetime
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [SITE_URL] if SITE_URL.startswith("http") else []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "agencies",
    "challenge_cards",
    "notifications",
    "axes",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "audit.middleware.AuditMiddleware",
    "config.security.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.inbox",
                "config.oidc.sso",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'challenge_cards.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A kept connection is checked before a request reuses it: after a database restart the first
        # request of each process would otherwise fail on the dead connection.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share the file: wait for locks, take them up front.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    VAR_DIR.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The server binds the parameters, so a query run five times on a kept connection
    # (DATABASE_CONN_MAX_AGE > 0) stays prepared: parsed and planned once. Behind a pooler that
    # cannot keep prepared statements (PgBouncer before 1.21 in transaction mode) set
    # DATABASE_PREPARED_STATEMENTS=false. Options from DATABASE_URL (?sslmode=...) are kept.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=5 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Meetings are held in Washington; every time is stored in UTC and shown here.
TIME_ZONE = "America/New_York"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# E-mail through Django's mailers: the SMTP relay in production, files locally, memory in tests.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "timeout": 30,
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Challenge Cards <no-reply@challenge-cards.localhost>")

# Celery: Redis in production; a broker that needs no server when unset (local).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}
# Notifications: the reminder scan and the sweeper of undelivered rows (both safe to run twice).
CELERY_BEAT_SCHEDULE["notifications-scan"] = {"task": "notifications.tasks.scan_reminders", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {"task": "notifications.tasks.sweep_undelivered", "schedule": 120.0}
CELERY_BEAT_SCHEDULE["idempotency-purge"] = {
    "task": "agencies.tasks.purge_expired_idempotency_keys",
    "schedule": 3600.0,
}
# Redis: an unacknowledged task (its worker died) goes back to the queue after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
# When set, overrides the admin-editable first retry delay (tests use a fraction of a second).
NOTIFICATIONS_RETRY_BASE_SECONDS = os.environ.get("NOTIFICATIONS_RETRY_BASE_SECONDS") or None

# Per API token (or per signed-in user), shared through the cache (Redis when REDIS_URL is set).
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "1000/hour")
REST_FRAMEWORK = {
    # Bearer first: its WWW-Authenticate header makes a missing credential a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.ProblemAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["config.api_support.FastJSONRenderer"],  # DRF's JSON, written by orjson
    "DEFAULT_PARSER_CLASSES": ["config.api_support.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api_support.StrictContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["config.api_support.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api_support.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["config.api_support.ApiRateThrottle"],
    "EXCEPTION_HANDLER": "config.api_errors.problem_exception_handler",
    # OPTIONS answers 405 like any method the schema does not list.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Challenge Cards API",
    "DESCRIPTION": (
        "Challenge cards issued at President's Management Council meetings, for agency tools. "
        "Authenticate with `Authorization: Bearer <token>`. Errors are RFC 9457 problem details. "
        "Changes need the If-Match header with the ETag you read. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SCHEMA_PATH_PREFIX_TRIM": False,
    "ENUM_NAME_OVERRIDES": {
        "CardStatusEnum": "challenge_cards.models.CardStatus",
        "ActionStatusEnum": "challenge_cards.models.ActionStatus",
        "MeetingStatusEnum": "challenge_cards.models.Meeting.Status",
        "RatingEnum": "challenge_cards.models.Rating",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Redis for the cache (API throttling) when REDIS_URL is set; in-process memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "config.cache.KeptClientRedisCache",  # Django's, one client per pool
            "LOCATION": REDIS_URL,
            # A Redis that stops answering costs each request at most a second (the throttle then fails open).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Security controls: sign-in lockout, session timeouts, headers, single sign-on (docs/operations.md) ---
# Lock an account after AUTH_LOCKOUT_FAILURES failed sign-ins, each within AUTH_LOCKOUT_MINUTES of the last,
# for AUTH_LOCKOUT_MINUTES after the last one (FedRAMP Moderate AC-7). OMB admins unlock in the admin.
AUTH_LOCKOUT_FAILURES = int(os.environ.get("AUTH_LOCKOUT_FAILURES", "3"))
AUTH_LOCKOUT_MINUTES = int(os.environ.get("AUTH_LOCKOUT_MINUTES", "15"))
AUTHENTICATION_BACKENDS = ["audit.backends.LockoutBackend", "config.auth.PasswordBackend"]
AXES_FAILURE_LIMIT = AUTH_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AUTH_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
# The lock is per account, as AC-7 asks; locking addresses too would lock out whole agencies behind one proxy.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "audit.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "audit.context.client_ip"
AXES_ENABLE_ADMIN = False  # audit.admin shows lockouts to OMB admins
AXES_DISABLE_ACCESS_LOG = True  # sign-ins are in the audit log
AXES_VERBOSE = False
# How many reverse proxies in front of gunicorn append to X-Forwarded-For (0: use the peer address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Sign a browser session out after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS in all.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "15"))
SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", "12"))
# The cookie lives as long as the absolute lifetime; config.security.SessionTimeoutMiddleware ends idle sessions
# on the server, and says so on the sign-in page.
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions live in the database and are read from the cache (Redis), so a page pays no query for its
# session; a session stays in the cache at most SESSION_CACHE_SECONDS (config/sessions.py says why).
# Without Redis the cache is each process's own memory, where a copy would outlive a sign-out made in
# another web process: then sessions are read from the database only.
SESSION_ENGINE = "config.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_CACHE_SECONDS = int(os.environ.get("SESSION_CACHE_SECONDS", "300"))

# Every page, script, style, font and image is served by this site (USWDS and htmx are vendored).
CONTENT_SECURITY_POLICY = os.environ.get(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Optional single sign-on through OpenID Connect (Login.gov style): on when OIDC_RP_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
SSO_ENABLED = bool(OIDC_RP_CLIENT_ID)
SSO_PROVIDER_NAME = os.environ.get("SSO_PROVIDER_NAME", "Login.gov")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_CREATE_USER = False  # OMB admins create accounts; single sign-on only proves who someone is
OIDC_AUTH_REQUEST_EXTRA_PARAMS = (
    {"acr_values": os.environ["OIDC_ACR_VALUES"]} if os.environ.get("OIDC_ACR_VALUES") else {}
)
OIDC_TIMEOUT = 10
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=failed"
if SSO_ENABLED:
    _missing = [
        name
        for name in (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not globals()[name]
    ]
    if _missing:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"OIDC_RP_CLIENT_ID is set, so these must be too: {', '.join(_missing)}.")
    AUTHENTICATION_BACKENDS.append("config.oidc.AccountOIDCBackend")
