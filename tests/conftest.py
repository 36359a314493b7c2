"""Shared fixtures: an API client, the SMS outbox, a clean cache, users signed in.

The one layer every in-process test makes its signed-in users with:

- ``make_user(phone=None, **fields)``: a user made as a first sign-in makes one (phone
  account and invite code), without a request;
- ``client_for(user)``: an API client with a fresh login session's bearer token;
- ``signed_in(phone=None, **fields)``: both at once, ``(user, client)``;
- ``sign_in(phone)``: the whole send-code and verify-code exchange, its verify answer;
- ``auth_client(phone)``: an API client signed in through that exchange (``.tokens``);
- ``web_sign_in(phone, client=None)``: a browser-like client signed in through the pages.

The session refuses to start, naming what is missing, when PostgreSQL or Redis is not
reachable: these tests run against the real services, never mocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from phone_auth import sms
from phone_auth.services import user_get_or_create
from phone_auth.tokens import session_start
from tests.support import bearer, code_from_outbox, phone_number


def pytest_configure(config: pytest.Config) -> None:
    """Give each xdist worker its own Redis database (the next ones after the configured)."""
    worker = getattr(config, "workerinput", {}).get("workerid", "")
    if not worker.startswith("gw"):
        return
    location = str(settings.CACHES["default"]["LOCATION"])
    base, _, db = location.rpartition("/")
    offset = int(worker[2:])
    settings.CACHES["default"]["LOCATION"] = f"{base}/{int(db or 0) + offset}"
    settings.REDIS_URL = settings.CACHES["default"]["LOCATION"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail loudly when the real database or cache is down."""
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    problems = []
    if db["ENGINE"] in ("django.db.backends.postgresql", "config.postgresql"):
        try:
            psycopg.connect(
                host=db.get("HOST") or "127.0.0.1",
                port=int(db.get("PORT") or 5432),
                user=db.get("USER") or "postgres",
                password=db.get("PASSWORD") or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except Exception as exc:
            problems.append(f"PostgreSQL at {db.get('HOST')}:{db.get('PORT')} ({exc})")
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at {settings.REDIS_URL} ({exc})")
    if problems:
        pytest.exit("Tests need real services that are not reachable: " + "; ".join(problems), 2)


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    cache.clear()
    sms.outbox.clear()
    yield
    sms.outbox.clear()
    # The test client runs a request in the test's own thread, and the locale middleware
    # leaves the request's language active there: the next test would speak it.
    translation.deactivate()


@pytest.fixture
def sms_outbox() -> list[sms.SmsMessage]:
    """Messages the locmem sender got during the test (the SMS twin of ``mail.outbox``)."""
    return sms.outbox


@pytest.fixture
def api_client() -> APIClient:
    """A DRF test client."""
    return APIClient()


@pytest.fixture
def sign_in(
    api_client: APIClient, sms_outbox: list[sms.SmsMessage]
) -> Callable[[str], dict[str, Any]]:
    """Sign in ``phone`` through the API and return the verify answer."""

    def _sign_in(phone: str) -> dict[str, Any]:
        client = APIClient()
        sent = client.post("/api/v1/auth/send-code/", {"phone": phone}, format="json")
        assert sent.status_code == 200, sent.content
        code = code_from_outbox(sms_outbox, sent.json()["phone"])
        verified = client.post(
            "/api/v1/auth/verify-code/", {"phone": phone, "code": code}, format="json"
        )
        assert verified.status_code == 200, verified.content
        cache.clear()  # the next sign-in of a test is not a resend
        return dict(verified.json())

    return _sign_in


@pytest.fixture
def auth_client(sign_in: Callable[[str], dict[str, Any]]) -> Callable[[str], APIClient]:
    """An API client signed in as ``phone`` through the API; its tokens in ``.tokens``."""

    def _client(phone: str = "+79110000001") -> APIClient:
        tokens = sign_in(phone)
        client = bearer(tokens["access"])
        client.tokens = tokens  # type: ignore[attr-defined]
        return client

    return _client


@pytest.fixture
def make_user() -> Callable[..., Any]:
    """Create a user the way a first sign-in does (phone account and invite code).

    ``make_user()`` takes the next unused number, ``make_user(phone, **fields)`` a given one
    with ``fields`` set on the user.
    """
    numbers = itertools.count(1)

    def _make(phone: str | None = None, **fields: Any) -> Any:
        user, created = user_get_or_create(phone=phone or phone_number(next(numbers)))
        assert created
        if fields:
            for name, value in fields.items():
                setattr(user, name, value)
            user.save()
        return user

    return _make


@pytest.fixture
def client_for() -> Callable[[Any], APIClient]:
    """An API client signed in as ``user`` (a login session with a bearer token)."""

    def _client(user: Any) -> APIClient:
        return bearer(session_start(user=user).access)

    return _client


@pytest.fixture
def signed_in(
    make_user: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> Callable[..., tuple[Any, APIClient]]:
    """A new user of ``phone`` (with ``fields`` set) and an API client signed in as it."""

    def _signed_in(phone: str | None = None, **fields: Any) -> tuple[Any, APIClient]:
        user = make_user(phone, **fields)
        return user, client_for(user)

    return _signed_in


@pytest.fixture
def web_sign_in(sms_outbox: list[sms.SmsMessage]) -> Callable[..., Client]:
    """A client signed in as ``phone`` through the phone and code pages."""

    def _sign_in(phone: str, client: Client | None = None) -> Client:
        client = client or Client()
        sent = client.post("/", {"phone": phone})
        assert sent.status_code == 302, sent.content
        verified = client.post("/code/", {"code": code_from_outbox(sms_outbox, phone)})
        assert verified.status_code == 302
        assert verified["Location"] == "/profile/"
        cache.clear()  # the next sign-in of a test is not a resend
        return client

    return _sign_in
