"""The attacks as they were tried: a live service in production mode (PostgreSQL, its own Redis,
console SMS), each client its own loopback source address (127.0.0.x).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.live_service import (
    Server,
    free_port,
    manage,
    run_manage,
    start_server,
    stop_server,
)

SEND = "/api/v1/auth/send-code/"
VERIFY = "/api/v1/auth/verify-code/"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
SECRET = secrets.token_urlsafe(48)

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free port, stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database of this module (and process), dropped afterwards."""
    base = os.environ.get("DATABASE_URL", f"{POSTGRES}/phone_referrals").rsplit("/", 1)[1]
    name = f"{base}_live_{os.getpid()}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield f"{POSTGRES}/{name}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def production_env(database_url: str, redis_url: str, **variables: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SMS_BACKEND="console",
        SMS_DELAY="0",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(variables)
    return env


@pytest.fixture(scope="module")
def migrated(database_url: str, redis_url: str) -> str:
    manage(production_env(database_url, redis_url), "migrate", "--noinput", "-v", "0")
    return database_url


@pytest.fixture(scope="module")
def service(
    migrated: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = production_env(migrated, redis_url, AUTH_SEND_IP_HOUR="3", AUTH_SEND_GLOBAL_HOUR="8")
    server = start_server(env, tmp_path_factory.mktemp("live") / "server.log")
    yield server
    stop_server(server.process)


@pytest.fixture(scope="module")
def slow_service(
    migrated: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    server = start_server(
        production_env(migrated, redis_url, SMS_DELAY="2"),
        tmp_path_factory.mktemp("slow") / "server.log",
    )
    yield server
    stop_server(server.process)


def from_address(server: Server, address: str) -> httpx.Client:
    """A client whose socket is bound to ``address``."""
    return httpx.Client(
        base_url=server.base_url,
        transport=httpx.HTTPTransport(local_address=address),
        timeout=30,
        trust_env=False,
    )


def code_in_log(server: Server, phone: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [
            line for line in server.log.read_text(errors="replace").splitlines() if phone in line
        ]
        for line in reversed(lines):
            match = re.search(r"(?<!\d)\d{4}(?!\d)", line.split(phone, 1)[1])
            if match:
                return match.group(0)
        time.sleep(0.05)
    raise AssertionError(f"no SMS to {phone} in the log")


def phone(n: int) -> str:
    return f"+7913{os.getpid() % 1000:03d}{n:04d}"


def test_a_spent_client_cannot_switch_sending_off_for_others(service: Server) -> None:
    with from_address(service, "127.0.0.20") as attacker:
        statuses = [attacker.post(SEND, json={"phone": phone(n)}).status_code for n in range(40)]
    assert statuses.count(200) == 3
    assert set(statuses[3:]) == {429}

    for n, address in enumerate(("127.0.0.21", "127.0.0.22", "127.0.0.23")):
        with from_address(service, address) as other:
            answer = other.post(SEND, json={"phone": phone(100 + n)})
            assert answer.status_code == 200, answer.text


def test_wrong_guesses_of_another_address_never_lock_out_the_owner(service: Server) -> None:
    victim = phone(500)
    with (
        from_address(service, "127.0.0.31") as owner,
        from_address(service, "127.0.0.30") as attacker,
    ):
        assert attacker.post(SEND, json={"phone": victim}).status_code == 200
        planted = code_in_log(service, victim)
        for _ in range(3):
            attacker.post(
                VERIFY, json={"phone": victim, "code": f"{(int(planted) + 1) % 10000:04d}"}
            )

        assert owner.post(SEND, json={"phone": victim}).status_code == 200
        code = code_in_log(service, victim)
        guesses = [
            attacker.post(VERIFY, json={"phone": victim, "code": f"{(int(code) + n) % 10000:04d}"})
            for n in range(1, 7)
        ]
        assert {guess.status_code for guess in guesses} <= {400, 429}
        signed_in = owner.post(VERIFY, json={"phone": victim, "code": code})
        assert signed_in.status_code == 200, signed_in.text


def test_a_client_gone_mid_delay_can_ask_again_at_once(slow_service: Server) -> None:
    victim = phone(700)
    port = int(slow_service.base_url.rsplit(":", 1)[1])
    body = f'{{"phone": "{victim}"}}'.encode()
    with socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.40", 0)) as raw:
        raw.sendall(
            b"POST " + SEND.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        time.sleep(0.5)  # the send waits on the 2 s provider latency; the client leaves

    time.sleep(0.5)
    with from_address(slow_service, "127.0.0.40") as again:
        answer = again.post(SEND, json={"phone": victim})
    assert answer.status_code == 200, answer.text


def test_codes_for_every_client_say_so_in_the_start_up_log(migrated: str, redis_url: str) -> None:
    exposed = run_manage(production_env(migrated, redis_url, AUTH_EXPOSE_CODES="true"), "check")
    quiet = run_manage(production_env(migrated, redis_url), "check")

    lines = [line for line in (exposed.stdout + exposed.stderr).splitlines() if "DEMO MODE" in line]
    assert len(lines) == 1
    assert "EVERY client" in lines[0]
    assert "DEMO MODE" not in quiet.stdout + quiet.stderr


def test_local_development_shows_codes_to_loopback_clients_without_a_warning(
    migrated: str, redis_url: str, tmp_path: Path
) -> None:
    env = production_env(migrated, redis_url, DEBUG="true")
    env.pop("SECRET_KEY")
    server = start_server(env, tmp_path / "server.log")
    try:
        with from_address(server, "127.0.0.50") as local:
            body = local.post(SEND, json={"phone": phone(800)}).json()
    finally:
        stop_server(server.process)
    assert body["debug_code"] == code_in_log(server, phone(800))
    assert "DEMO MODE" not in server.log.read_text(errors="replace")
