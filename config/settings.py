"""Settings of the standalone service, read from environment variables.

Every variable of the configuration table in the README is read here; the
defaults are the local-development ones (SQLite, console SMS, demo mode), and
with ``DEBUG=false`` the service refuses to start on a development secret key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.environment import app_settings_from_environment
from phone_auth import __version__
from phone_auth.conf import LOOPBACK

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEV_SECRET_KEY = "dev-insecure-key-do-not-use-in-production"  # noqa: S105

DEBUG: bool = env.bool("DEBUG", default=True)
SECRET_KEY: str = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is the development key or shorter than 32 characters: "
        "set SECRET_KEY to a long random value."
    )
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DEBUG is off: set ALLOWED_HOSTS to the host names the service answers."
    )

INSTALLED_APPS = [
    "config.apps.StaffAdminConfig",  # django.contrib.admin, password sign-in only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "config.apps.ServiceConfig",
    "phone_auth",
    "referrals",
    "phone_referrals_web",
]

# Django's stock middleware, adapted to ASGI (see config/middleware.py): header-only hooks
# run inline, session/CSRF/login/messages only for the web UI and the admin.
MIDDLEWARE = [
    # Outermost: a browser opening a missing or failing page gets the UI's HTML page.
    "phone_referrals_web.middleware.ErrorPageMiddleware",
    "config.middleware.HardeningMiddleware",
    "config.middleware.JsonErrorBodyMiddleware",
    "config.middleware.SecurityMiddleware",
    "config.middleware.SessionMiddleware",
    "config.middleware.LocaleMiddleware",
    "config.middleware.CommonMiddleware",
    "config.middleware.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "config.middleware.XFrameOptionsMiddleware",
    "config.middleware.NoTracebackMiddleware",
]

# Django looks for its stock middleware paths; config/checks.py checks the subclasses instead.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

# Requests one worker process works on at once; more are answered at once with
# 503 service_unavailable and Retry-After (config/asgi.py). A request waiting on the SMS
# provider holds no thread, so the bound is the memory of requests in flight, not threads.
MAX_CONCURRENT_REQUESTS: int = env.int("MAX_CONCURRENT_REQUESTS", default=1000)
# Threads per worker that run the synchronous parts of requests (config/handler.py): as
# many as the database pool has connections, so none waits on the pool for long.
REQUEST_THREADS: int = env.int("REQUEST_THREADS", default=env.int("DATABASE_POOL_MAX", default=20))

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "phone_referrals_web.views.form_expired"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# CONN_MAX_AGE stays 0: under ASGI persistent connections leak across threads; PostgreSQL
# gets psycopg's connection pool instead, so a request borrows a connection only while it
# runs queries (never while it waits on the SMS provider).
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
_db = DATABASES["default"]
_db["CONN_MAX_AGE"] = 0
_db["ATOMIC_REQUESTS"] = False
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {})
    # A database that is away must cost a request seconds, not a hang: connecting gives up
    # after DATABASE_CONNECT_TIMEOUT, waiting for a pooled connection after
    # DATABASE_POOL_TIMEOUT (then 503 service_unavailable).
    _db["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2))
    if env.bool("DATABASE_POOL", default=True):
        _db["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=2.0),
            # psycopg keeps retrying a lost connection with doubling waits for 5 minutes by
            # default, so after an outage the pool could sit out the database's return for
            # half a minute; giving a failed attempt up quickly lets the next request start a
            # fresh one at once.
            "reconnect_timeout": env.float("DATABASE_RECONNECT_TIMEOUT", default=2.0),
        }
        # Django's backend with a pool that checks each connection at checkout
        # (check=ConnectionPool.check_connection, one round trip) and, on a dead one, all
        # idle ones at once (config/postgresql/base.py): after a database restart no request
        # fails on a dead pooled connection, and the first one gets a fresh connection.
        _db["ENGINE"] = "config.postgresql"
    # Statements run this many times on a connection are prepared (psycopg): PostgreSQL
    # stops planning the profile read on every request. Only server-bound cursors use it
    # (the ORM binds on the client); empty turns it off, e.g. behind a transaction pooler.
    _prepare = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    _db["OPTIONS"].setdefault("prepare_threshold", int(_prepare) if _prepare else None)
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the one-process dev server write while it reads.
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("timeout", 20)
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate-limit counters) -------------------------------------------------------------
REDIS_URL: str | None = env.str("REDIS_URL", default=None)
if REDIS_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="phone-referrals"),
            "OPTIONS": {
                "pool_class": "config.redis.SharedBlockingConnectionPool",
                "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=50),
                # Seconds to wait for a free pooled connection.
                "timeout": 2,
                # A Redis that is away is a ConnectionError within a second or two (then
                # 503 service_unavailable), never a hang.
                "socket_connect_timeout": env.float("REDIS_TIMEOUT", default=1.0),
                "socket_timeout": env.float("REDIS_TIMEOUT", default=1.0),
                # A pooled connection that died with a Redis restart is reconnected once,
                # at once, instead of failing the request that meets it.
                "retry": Retry(NoBackoff(), 1),
            },
        }
    }
else:
    # One process (the run command's default) keeps exact counters in local memory.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "/"
# Passwords (the admin's login) and the web UI's phone sign-in, which the admin refuses.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "phone_referrals_web.backends.PhoneCodeBackend",
]

# --- Security headers (production) -----------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
if env.bool("BEHIND_HTTPS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST framework --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["phone_auth.authentication.SessionTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["phone_auth.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "phone_auth.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Phone sign-in and referrals API",
    "DESCRIPTION": """Sign in with a phone number and a one-time SMS code, get JWT tokens, \
activate an invite code and collect referral points.

**Signing in.** `POST /api/v1/auth/send-code/` with a phone, then \
`POST /api/v1/auth/verify-code/` with the code from the SMS. The answer holds an `access` \
token (send it as `Authorization: Bearer <access>`; in Swagger UI, press *Authorize*) and a \
`refresh` token that `POST /api/v1/auth/token/refresh/` swaps for a new pair, once.

**Errors.** Every 4xx/5xx answer is JSON: `{"code": "...", "detail": "..."}`. `code` is \
stable and machine-readable; `detail` is human text in the language of `Accept-Language` \
(English or Russian). Validation errors are `400 invalid_input` with `fields`; unknown or \
read-only keys in a write body are validation errors too. `429` answers carry a \
`Retry-After` header and a `retry_after` field. Any route may answer \
`503 service_unavailable` with `Retry-After` when the database or the cache it needs is \
unreachable or the server is at its concurrency limit: fast, never a hang; retry later.

**Phones** are read with libphonenumber rules (default region RU) and always returned in \
E.164 (`+79110000000`). Timestamps are ISO 8601 UTC.""",
    "VERSION": __version__,
    "LICENSE": {"name": "MIT"},
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # No validator badge: it would send the schema's address to an outside service.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {},
    "TAGS": [
        {"name": "auth", "description": "Sign in with an SMS code; rotate and end sessions."},
        {"name": "profile", "description": "The caller's own profile, invite code and points."},
        {"name": "staff", "description": "Staff only: look users up."},
        {"name": "service", "description": "Health checks and public signing keys."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "phone_auth.openapi.add_healthz",
    ],
}

# --- JWT -------------------------------------------------------------------------------------
JWT_ALGORITHM: str = env.str("JWT_ALGORITHM", default="HS256")
_jwt_private_key: str = env.str("JWT_PRIVATE_KEY", default="", multiline=True)
if JWT_ALGORITHM.startswith(("RS", "ES", "PS")):
    if not _jwt_private_key:
        raise ImproperlyConfigured(f"JWT_ALGORITHM={JWT_ALGORITHM} needs JWT_PRIVATE_KEY (PEM).")
    from phone_auth.keys import public_pem_from_private

    _jwt_signing_key, _jwt_verifying_key = (
        _jwt_private_key,
        public_pem_from_private(_jwt_private_key),
    )
else:
    _jwt_signing_key = env.str("JWT_SIGNING_KEY", default=SECRET_KEY)
    _jwt_verifying_key = ""

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TTL", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_TTL", default=30 * 86400)),
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": _jwt_signing_key,
    "VERIFYING_KEY": _jwt_verifying_key,
    "AUDIENCE": env.str("JWT_AUDIENCE", default="phone-referrals"),
    "ISSUER": env.str("JWT_ISSUER", default="phone-referrals"),
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

# --- Phone sign-in and referrals (the apps' own settings) ------------------------------------
PHONENUMBER_DEFAULT_REGION: str = env.str("PHONE_DEFAULT_REGION", default="RU")
PHONENUMBER_DB_FORMAT = "E164"
# Each app setting is read from the environment variable of its own name
# (PHONE_AUTH_CODE_TTL) or its older alias (AUTH_CODE_TTL); the own name wins when both are
# set. The names come from the apps' declarations, the aliases from config/environment.py.
_app_settings = app_settings_from_environment(
    os.environ,
    {
        # Demo mode: set explicitly, true hands codes to every client; unset in local
        # development (DEBUG), only loopback clients get them; otherwise off.
        "PHONE_AUTH_EXPOSE_CODES": LOOPBACK if DEBUG else False,
        "PHONE_AUTH_CODE_HMAC_KEY": SECRET_KEY,
        "PHONE_AUTH_ADAPTER": "referrals.adapter.ReferralAdapter",
        "PHONE_AUTH_SMS_OPTIONS": {"SMSAERO_SIGN": "SMS Aero"},
    },
)
globals().update(_app_settings)

_short_keys = [
    name
    for name, key in (
        ("JWT_SIGNING_KEY", _jwt_signing_key),
        ("PHONE_AUTH_CODE_HMAC_KEY", str(_app_settings["PHONE_AUTH_CODE_HMAC_KEY"])),
    )
    if len(key) < 32
]
if not DEBUG and _short_keys:
    raise ImproperlyConfigured(
        f"DEBUG is off but {' and '.join(_short_keys)} is shorter than 32 characters: set a "
        "long random value or leave it unset to use SECRET_KEY."
    )

# --- Logging ---------------------------------------------------------------------------------
LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # What a client can trigger cheaply (a bad Host header, a malformed body) and outages of
    # a backing service are one warning line each, never a traceback (config/logfilters.py).
    "filters": {"one_line": {"()": "config.logfilters.OneLineFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "phone_auth": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "referrals": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
