"""A host project as ``django-admin startproject`` makes it, with its own user model.

The blocks between the rulers are the README's "Using the apps in another Django
project" settings, copied literally (a test compares them): the apps, then the web UI's
pages; below them, only what the test suite needs: PostgreSQL instead of SQLite and no
simulated SMS latency.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-insecure-host-project-key-for-the-test-suite-only"
DEBUG = True
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "emailhost.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}

AUTH_USER_MODEL = "accounts.User"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---- README ----
INSTALLED_APPS += ["rest_framework", "phonenumber_field", "phone_auth", "referrals"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["phone_auth.authentication.SessionTokenAuthentication"],
    "EXCEPTION_HANDLER": "phone_auth.errors.api_exception_handler",
}
PHONE_AUTH_ADAPTER = "referrals.adapter.ReferralAdapter"  # new users get an invite code
# ---- README ----

# ---- README: web UI ----
INSTALLED_APPS += ["phone_referrals_web"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # passwords, as before
    "phone_referrals_web.backends.PhoneCodeBackend",  # the pages' phone sign-in
]
# ---- README: web UI ----

if os.environ.get("HOST_DATABASE_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["HOST_DATABASE_NAME"],
            "HOST": os.environ.get("HOST_DATABASE_HOST", "127.0.0.1"),
            "PORT": os.environ.get("HOST_DATABASE_PORT", "5432"),
            "USER": os.environ.get("HOST_DATABASE_USER", "postgres"),
            "PASSWORD": os.environ.get("HOST_DATABASE_PASSWORD", ""),
            "TEST": {"NAME": os.environ["HOST_DATABASE_NAME"]},
        }
    }
PHONE_AUTH_SMS_DELAY = "0"
