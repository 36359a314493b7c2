"""The service under test, started as a user starts it, and clients that talk to it.

Each pytest process (every xdist worker too) migrates one fresh SQLite database, makes a
staff user in it with ``manage.py make_staff``, and starts two copies of the service under
uvicorn on free ports, each on its own copy of that database:

- ``service``: the default settings (demo mode, no SMS delay), trusting one proxy hop so
  every test can speak from its own client IP through ``X-Forwarded-For``;
- ``short_service``: production mode (``DEBUG=false``, so no demo ``debug_code``: codes
  come from the console sender's log line), short code lifetime and resend cooldown, no
  refresh-reuse grace, RS256 tokens, a Russia-only phone allow-list, two referral phones
  in the profile and other bonuses, for the rules that need them (variables of the
  configuration tables of API.md and the README).

More start only for the tests that ask for them: ``bench_service`` (the real 1-2 s SMS
latency, rate limits off, other code settings), ``direct_service`` (no proxy trusted, as
by default), ``cacheless_service`` (its Redis is not there) and ``failing_sms_service``
(its SMS provider cannot be reached).

No test reads the service's code or its database: only HTTP and the server log.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.live_service import free_port, manage, service_env, start_server, stop_server
from tests.service.support import STAFF_PHONE, Api, Service, new_phone

STARTUP_TIMEOUT = 60.0
SHORT_CODE_TTL = 3
SHORT_RESEND_COOLDOWN = 1
SHORT_PROFILE_REFERRALS = 2
SHORT_INVITEE_BONUS = 7
SHORT_INVITER_BONUS = 11
HOUR_MARGIN = 20.0
PROVIDER_SECRET = "provider-secret-token-4711"
BENCH_CODE_LENGTH = 6
BENCH_MAX_ATTEMPTS = 5


def base_env(database: Path) -> dict[str, str]:
    """The default environment of the services under test."""
    return service_env(
        database, DEBUG="true", AUTH_EXPOSE_CODES="true", SMS_DELAY="0", TRUSTED_PROXIES="1"
    )


def _start(
    workdir: Path,
    template: Path,
    changes: dict[str, str | None],
    ready: tuple[int, ...] = (200,),
) -> Service:
    """Copy the migrated database and serve it through uvicorn as ``make run`` does.

    ``changes`` sets variables over the default environment (``None`` unsets one); the
    service is up when ``/healthz`` answers with one of the ``ready`` statuses.
    """
    database = workdir / "db.sqlite3"
    shutil.copyfile(template, database)
    env = base_env(database)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    server = start_server(env, workdir / "server.log", ready=ready, timeout=STARTUP_TIMEOUT)
    return Service(base_url=server.base_url, log=server.log, env=env, process=server.process)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly migrated SQLite database with one staff user, copied by each server."""
    database = tmp_path_factory.mktemp("contract-template") / "db.sqlite3"
    env = base_env(database)
    manage(env, "migrate", "--noinput")
    manage(env, "make_staff", "--phone", STAFF_PHONE)
    return database


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, migrated_database: Path) -> Iterator[Service]:
    """The service with its default settings."""
    running = _start(tmp_path_factory.mktemp("contract-default"), migrated_database, {})
    yield running
    stop_server(running.process)


@pytest.fixture(scope="session")
def rsa_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def short_service(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Path, rsa_private_key: str
) -> Iterator[Service]:
    """Production mode with short timings, no refresh grace, RS256 and small limits."""
    running = _start(
        tmp_path_factory.mktemp("contract-short"),
        migrated_database,
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "AUTH_EXPOSE_CODES": None,  # its default outside local development: off
            "AUTH_CODE_TTL": str(SHORT_CODE_TTL),
            "AUTH_RESEND_COOLDOWN": str(SHORT_RESEND_COOLDOWN),
            "AUTH_REFRESH_REUSE_GRACE": "0",
            "JWT_ALGORITHM": "RS256",
            "JWT_PRIVATE_KEY": rsa_private_key,
            "PHONE_ALLOWED_REGIONS": "RU",
            "REFERRAL_PROFILE_LIST_LIMIT": str(SHORT_PROFILE_REFERRALS),
            "REFERRAL_INVITEE_BONUS": str(SHORT_INVITEE_BONUS),
            "REFERRAL_INVITER_BONUS": str(SHORT_INVITER_BONUS),
        },
    )
    yield running
    stop_server(running.process)


@pytest.fixture
def clients() -> Iterator[Callable[[Service], Api]]:
    """Make clients, each with its own client IP; all closed after the test."""
    made: list[Api] = []

    def _make(target: Service) -> Api:
        made.append(Api(target))
        return made[-1]

    yield _make
    for client in made:
        client.close()


@pytest.fixture
def api(service: Service, clients: Callable[[Service], Api]) -> Api:
    """A client of the default service with an IP of its own."""
    return clients(service)


@pytest.fixture
def short_api(short_service: Service, clients: Callable[[Service], Api]) -> Api:
    """A client of the short-timings service with an IP of its own."""
    return clients(short_service)


@pytest.fixture
def phone() -> str:
    """A phone no other test uses."""
    return new_phone()


@pytest.fixture(scope="session")
def staff_access(service: Service) -> str:
    """An access token of the staff user (made by ``make_staff``) on the default service."""
    staff = Api(service)
    try:
        return str(staff.sign_in(STAFF_PHONE)["access"])
    finally:
        staff.close()


@pytest.fixture(scope="session")
def bench_service(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Path
) -> Iterator[Service]:
    """The service with the console sender's default simulated latency (1-2 s),
    ``AUTH_RATE_LIMITS=off``, six-digit codes and five attempts per code."""
    running = _start(
        tmp_path_factory.mktemp("contract-bench"),
        migrated_database,
        {
            "SMS_DELAY": None,
            "AUTH_RATE_LIMITS": "off",
            "AUTH_CODE_LENGTH": str(BENCH_CODE_LENGTH),
            "AUTH_CODE_MAX_ATTEMPTS": str(BENCH_MAX_ATTEMPTS),
        },
    )
    yield running
    stop_server(running.process)


@pytest.fixture(scope="session")
def direct_service(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Path
) -> Iterator[Service]:
    """The service trusting no proxy (``TRUSTED_PROXIES`` at its default): the client IP is
    the socket peer, whatever ``X-Forwarded-For`` says."""
    running = _start(
        tmp_path_factory.mktemp("contract-direct"), migrated_database, {"TRUSTED_PROXIES": None}
    )
    yield running
    stop_server(running.process)


@pytest.fixture(scope="session")
def cacheless_service(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Path
) -> Iterator[Service]:
    """The service pointed at a Redis that is not there."""
    running = _start(
        tmp_path_factory.mktemp("contract-no-cache"),
        migrated_database,
        {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
        ready=(503,),
    )
    yield running
    stop_server(running.process)


@pytest.fixture
def same_clock_hour() -> None:
    """Start a budget test well inside one clock hour.

    Budgets may count in windows that start on the hour (``retry_after`` then points at
    the next one), so a test that spends a budget must not straddle ``:00``.
    """
    left = 3600 - time.time() % 3600
    if left < HOUR_MARGIN:
        time.sleep(left + 1)


@pytest.fixture(scope="session")
def failing_sms_service(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: Path
) -> Iterator[Service]:
    """The service with a real SMS provider configured whose every request fails at once
    (its HTTPS goes to a proxy port nothing listens on)."""
    dead = f"http://127.0.0.1:{free_port()}"
    running = _start(
        tmp_path_factory.mktemp("contract-failing-sms"),
        migrated_database,
        {
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": PROVIDER_SECRET,
            "TWILIO_FROM": "+15005550006",
            "HTTPS_PROXY": dead,
            "HTTP_PROXY": dead,
        },
    )
    yield running
    stop_server(running.process)
