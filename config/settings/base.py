"""Settings shared by every environment, read from the environment."""

import datetime
import ipaddress
import os
import urllib.parse
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CC_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# True only under config.settings.production (demo-data commands refuse to run there unless told).
PRODUCTION = False
CSRF_TRUSTED_ORIGINS = [SITE_URL] if SITE_URL.startswith("http") else []

INSTALLED_APPS = [
    "agencies.apps.OmbAdminConfig",  # django.contrib.admin, with the OMB roles deciding who may use it
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
    "council",
    "notifications",
    "axes",
    "core",
    "audit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "accounts",
]

MIDDLEWARE = [
    # Platform probes first: answered whatever the Host header and without the HTTPS redirect (core/health.py).
    "core.health.ProbeMiddleware",
    # The request id, one access line per request and the request metrics (core/logs.py, core/metrics.py).
    "core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",  # every answer's Content-Length, the API's too
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Browser only: a bearer API request passes from each Start to its End (its token alone; core/api/middleware.py).
    "core.api.middleware.BrowserOnlyStart",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.api.middleware.BrowserOnlyEnd",
    "audit.middleware.AuditMiddleware",
    "core.api.middleware.BrowserOnlyStart",
    "core.security.SessionTimeoutMiddleware",
    "accounts.middleware.SignInPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.api.middleware.BrowserOnlyEnd",
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
                "core.oidc.sso",
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
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploaded evidence in S3-compatible object storage when a bucket is named (django-storages), so every web host
# sees every file; the local file system (MEDIA_ROOT) otherwise. STORAGE_URL gives it all in one value:
# s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?region=us-east-1 (https; s3+http:// for plain HTTP), and the
# AWS_* variables override its parts. Files are private and leave only through the checked download view.
_storage_url = urllib.parse.urlsplit(os.environ.get("STORAGE_URL", ""))
_storage_query = dict(urllib.parse.parse_qsl(_storage_url.query))
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME") or _storage_url.path.strip("/")
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or (
    f"{'http' if _storage_url.scheme == 's3+http' else 'https'}://{_storage_url.hostname}"
    + (f":{_storage_url.port}" if _storage_url.port else "")
    if _storage_url.hostname
    else ""
)
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or _storage_query.get("region", "")
# Unset: boto3 finds credentials itself (an instance or pod role).
_access_key = os.environ.get("AWS_ACCESS_KEY_ID") or urllib.parse.unquote(_storage_url.username or "")
_secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY") or urllib.parse.unquote(_storage_url.password or "")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL or None,  # None: Amazon S3 itself
            "region_name": AWS_S3_REGION_NAME or None,
            "access_key": _access_key or None,
            "secret_key": _secret_key or None,
            "addressing_style": "path" if AWS_S3_ENDPOINT_URL else None,  # MinIO, Ceph, moto: bucket in the path
            "signature_version": "s3v4",
            "default_acl": None,  # the bucket's own (private); no public-read ACL is ever asked for
            "querystring_auth": True,  # any URL the storage makes is signed ...
            "querystring_expire": 60,  # ... and short-lived (the download view streams; it makes none)
            "file_overwrite": False,
        },
    }

# E-mail through Django's mailers: the SMTP relay in production, files locally, memory in tests.
# A real relay: STARTTLS (EMAIL_USE_TLS) or TLS from the start (EMAIL_USE_SSL), a user and password, and
# optionally a client certificate and the authority that signed the relay's (core.mail.SMTPBackend).
_smtp_tls, _smtp_ssl = env_bool("EMAIL_USE_TLS"), env_bool("EMAIL_USE_SSL")
if _smtp_tls and _smtp_ssl:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL (TLS from the start), not both.")
_smtp_options: dict[str, object] = {
    "host": os.environ.get("EMAIL_HOST", "localhost"),
    "port": int(os.environ.get("EMAIL_PORT") or (465 if _smtp_ssl else 587 if _smtp_tls else 25)),
    "timeout": 30,
}
if os.environ.get("EMAIL_HOST_USER"):
    _smtp_options.update(username=os.environ["EMAIL_HOST_USER"], password=os.environ.get("EMAIL_HOST_PASSWORD", ""))
if _smtp_tls or _smtp_ssl:
    _smtp_options.update(use_tls=_smtp_tls, use_ssl=_smtp_ssl)
for _option, _variable in (
    ("ssl_certfile", "EMAIL_SSL_CERTFILE"),
    ("ssl_keyfile", "EMAIL_SSL_KEYFILE"),
    ("ssl_cafile", "EMAIL_SSL_CAFILE"),
):
    if os.environ.get(_variable):
        _smtp_options[_option] = os.environ[_variable]
MAILERS = {"default": {"BACKEND": "core.mail.SMTPBackend", "OPTIONS": _smtp_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Challenge Cards <no-reply@challenge-cards.localhost>")
MEETING_ORGANIZER_EMAIL = os.environ.get("MEETING_ORGANIZER_EMAIL", "")  # the invitations' ORGANIZER, if not the sender

# Celery: Redis in production; a broker that needs no server when unset (local).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}
# The reminder scan; the sweeper (every 30 s: a dead worker's e-mails come back within its lease and 30 s).
CELERY_BEAT_SCHEDULE["notifications-scan"] = {"task": "notifications.tasks.scan_reminders", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {"task": "notifications.tasks.sweep_undelivered", "schedule": 30.0}
# Briefing packets queued or building longer than this (broker down, worker gone) are queued again.
BRIEFING_PACKET_STUCK_MINUTES = int(os.environ.get("BRIEFING_PACKET_STUCK_MINUTES", "30"))
# Child processes laying out the packet's agencies (a core and ~120 MB each; 0: laid out in the worker).
BRIEFING_PACKET_PROCESSES = int(os.environ.get("BRIEFING_PACKET_PROCESSES", "2"))
BRIEFING_PACKET_EMAIL_MAX_MB = int(os.environ.get("BRIEFING_PACKET_EMAIL_MAX_MB", "10"))  # larger: a link only
CELERY_BEAT_SCHEDULE["packets-sweep"] = {"task": "challenge_cards.tasks.sweep_stuck_packets", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["idempotency-purge"] = {
    "task": "agencies.tasks.purge_expired_idempotency_keys",  # core.tasks, under its first name
    "schedule": 3600.0,
}
# Redis: an unacknowledged task (its worker died) goes back to the queue after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
}
# An e-mail batch's claim on its rows: past it, the attempt counts as dead and the sweeper queues the rows again.
NOTIFICATIONS_CLAIM_LEASE_SECONDS = float(os.environ.get("NOTIFICATIONS_CLAIM_LEASE_SECONDS", "60"))
# When set, overrides the admin-editable first retry delay (tests use a fraction of a second).
NOTIFICATIONS_RETRY_BASE_SECONDS = os.environ.get("NOTIFICATIONS_RETRY_BASE_SECONDS") or None
# Webhooks go only to public https addresses (notifications/webhooks.py). For local testing only: http://
# URLs (WEBHOOK_ALLOW_HTTP) and loopback or private addresses such as 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_ADDRESSES).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)

# Per API token (or per signed-in user), shared through the cache (Redis when REDIS_URL is set).
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "1000/hour")
# Request bodies: the API reads JSON nested at most this deep (400 beyond) and, like the pages, bodies of at most
# DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413 from the API beyond; Django's setting, 2.5 MB by default).
API_JSON_MAX_DEPTH = int(os.environ.get("API_JSON_MAX_DEPTH", "64"))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))
# And one budget per user across all their tokens, so minting tokens does not multiply it.
API_USER_THROTTLE_RATE = os.environ.get("API_USER_THROTTLE_RATE", "2000/hour")
# The most live (unrevoked, unexpired) API tokens one user may hold.
API_TOKENS_PER_USER = int(os.environ.get("API_TOKENS_PER_USER", "10"))
REST_FRAMEWORK = {
    # Bearer first: its WWW-Authenticate header makes a missing credential a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ProblemAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.FastJSONRenderer"],  # DRF's JSON, written by orjson
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.renderers.StrictContentNegotiation",
    "DEFAULT_FILTER_BACKENDS": ["core.api.filtering.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ApiRateThrottle", "core.api.throttling.ApiUserRateThrottle"],
    "EXCEPTION_HANDLER": "core.api.errors.problem_exception_handler",
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


def logging_config(log_format: str, level: str) -> dict:
    """Every line to standard error with its request id (core.logs): one JSON object (``json``) or text."""
    if log_format not in ("json", "text"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT is json or text, not {log_format!r}.")
    text = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "core.logs.RequestContextFilter"}},
        "formatters": {"default": {"()": "core.logs.JsonFormatter"} if log_format == "json" else {"format": text}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["request_context"]}
        },
        "root": {"handlers": ["console"], "level": level},
        # core.logs writes one access line per request: runserver's own would be a second.
        "loggers": {"django.server": {"level": "WARNING"}},
    }


LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # json in production
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)

# Prometheus metrics at /metrics for a scrape with this bearer token or from these networks (comma-separated
# CIDRs); with neither, /metrics answers 404. The apps' collectors (core.metrics reads them at each scrape):
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")
for _network in METRICS_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {_network!r} is not a network (10.0.0.0/8).") from None
METRICS_COLLECTORS = ["notifications.metrics.OutboxCollector"]

# Optional error reporting (core/sentry.py): nothing is sent while SENTRY_DSN is unset.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "")
SENTRY_TRACES_SAMPLE_RATE = float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0"))

# Redis for the cache (API throttling) when REDIS_URL is set; in-process memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "core.cache.KeptClientRedisCache",  # Django's, one client per pool
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
AUTHENTICATION_BACKENDS = ["audit.backends.LockoutBackend", "core.auth.PasswordBackend"]
# Loaded with the signed-in user in the same query (core.auth): the page header's unread count.
SIGNED_IN_USER_ANNOTATIONS = {"unread_notifications": "notifications.models.unread_count_of_user"}
# Read with the card an update locks (with_update_facts): what its notifications and webhooks decide on.
CARD_UPDATE_ANNOTATIONS = {"card_updated_facts": "notifications.services.events.card_updated_facts"}
AXES_FAILURE_LIMIT = AUTH_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AUTH_LOCKOUT_MINUTES)
# The lock is per user name *and* address (AC-7's consecutive failures from one source): a stranger who knows
# a user name locks it only for their own address, never for its owner.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Past AUTH_SLOWDOWN_FAILURES failures for one user name from all addresses within AUTH_LOCKOUT_MINUTES, its
# password is checked at most once every AUTH_SLOWDOWN_SECONDS (a sooner try: "wait N seconds", not counted),
# and the user and the OMB admins get an e-mail (audit.lockout). 0 turns the slowdown off.
AUTH_SLOWDOWN_FAILURES = int(os.environ.get("AUTH_SLOWDOWN_FAILURES", "10"))
AUTH_SLOWDOWN_SECONDS = int(os.environ.get("AUTH_SLOWDOWN_SECONDS", "30"))
AXES_WHITELIST_CALLABLE = "audit.lockout.not_counted"
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
# The cookie lives as long as the absolute lifetime; core.security.SessionTimeoutMiddleware ends idle sessions
# on the server, and says so on the sign-in page.
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions live in the database and are read from the cache (Redis), so a page pays no query for its
# session; a session stays in the cache at most SESSION_CACHE_SECONDS (core/sessions.py says why).
# Without Redis the cache is each process's own memory, where a copy would outlive a sign-out made in
# another web process: then sessions are read from the database only.
SESSION_ENGINE = "core.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
# Sessions signed in before the backends moved from config/ to core/ keep working (core.sessions).
SESSION_BACKEND_RENAMES = {
    "config.auth.PasswordBackend": "core.auth.PasswordBackend",
    "config.oidc.AccountOIDCBackend": "core.oidc.AccountOIDCBackend",
}
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
# Login.gov: identity-only service level at AAL2 with a phishing-resistant factor (PIV/CAC, security key, passkey),
# as OMB M-22-09 asks. Set it empty for a provider that does not take acr_values.
OIDC_ACR_VALUES = os.environ.get(
    "OIDC_ACR_VALUES", "urn:acr.login.gov:auth-only http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true"
).strip()
OIDC_AUTH_REQUEST_EXTRA_PARAMS = {"acr_values": OIDC_ACR_VALUES} if OIDC_ACR_VALUES else {}
OIDC_TIMEOUT = 10
# The ID token's `acr` values that mean the provider itself used a phishing-resistant second factor;
# any other answer (or none) and an OMB admin still gives this site's own second factor (accounts.policy).
SSO_TRUSTED_ACR = env_list("SSO_TRUSTED_ACR", "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true")
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
    AUTHENTICATION_BACKENDS.append("core.oidc.AccountOIDCBackend")

# --- Sign-in policy: the system-use notice, password sign-in, second factors (accounts app, docs/operations.md) ---
# The system-use notice (NIST 800-53 AC-8), shown before every sign-in form and accepted once per session.
# Blank paragraphs separate paragraphs. An empty value keeps this text: the environment cannot turn the notice off.
SYSTEM_USE_NOTICE = os.environ.get("SYSTEM_USE_NOTICE", "").strip() or (
    "You are accessing a U.S. Government information system, which includes this computer, this network, all "
    "computers connected to this network, and all devices and storage media attached to this network or to a "
    "computer on this network. This information system is provided for U.S. Government-authorized use only."
    "\n\nUnauthorized or improper use of this system may result in disciplinary action, as well as civil and "
    "criminal penalties."
    "\n\nBy using this information system, you understand and consent to the following: you have no reasonable "
    "expectation of privacy regarding any communication or data transiting or stored on this information system. "
    "At any time, and for any lawful Government purpose, the Government may monitor, intercept, record, and search "
    "and seize any communication or data transiting or stored on this information system. Any communication or "
    "data transiting or stored on this information system may be disclosed or used for any lawful Government purpose."
)
# With single sign-on on, PASSWORD_SIGN_IN=false turns password sign-in off, except for the OMB admins named in
# BREAK_GLASS_USERNAMES (for when the provider is down). Without single sign-on, passwords stay on.
PASSWORD_SIGN_IN = env_bool("PASSWORD_SIGN_IN", True)
BREAK_GLASS_USERNAMES = env_list("BREAK_GLASS_USERNAMES")
AUTHENTICATION_BACKENDS.insert(1, "accounts.backends.PasswordPolicyBackend")  # after the lockout check
# OMB admins and superusers who sign in with a password must add and use a second factor (OMB M-22-09); other
# people may. Always on: only the test settings turn it off, for tests that are not about sign-in.
MFA_REQUIRED_FOR_OMB_ADMINS = True
OTP_TOTP_ISSUER = "Challenge Cards"
OTP_WEBAUTHN_RP_NAME = "Challenge Cards"
# Passkeys and security keys are bound to the site's host name (an IP address cannot be one: 127.0.0.1 is localhost).
_site = urllib.parse.urlsplit(SITE_URL)
_site_host = "localhost" if _site.hostname in {None, "127.0.0.1", "::1"} else _site.hostname
OTP_WEBAUTHN_RP_ID = _site_host
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"{_site.scheme or 'https'}://{_site_host}" + (f":{_site.port}" if _site.port else "")]
# A passkey is a second factor here, never a way around the password, the notice or PASSWORD_SIGN_IN.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
