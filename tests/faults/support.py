"""Backing services the fault tests own and break: a PostgreSQL and a Redis of their own.

Never the machine's: each test module starts Debian's PostgreSQL (``initdb``/``pg_ctl`` from
the versioned folder under ``/usr/lib/postgresql``, run as the ``postgres`` OS user) in a
temporary directory on a free port, and ``redis-server`` on another, serves the service
against them through its launcher, and stops, kills and restarts them mid-traffic.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.live_service import Server, free_port, manage, service_env, start_server, stop_server

PG_ROOT = Path("/usr/lib/postgresql")
TIMEOUT = 30.0
RAW_TIMEOUT = 60.0


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's ``bin`` folder (not on ``PATH`` on Debian)."""
    found = sorted(PG_ROOT.glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found or shutil.which("redis-server") is None:
        pytest.skip("needs Debian's postgresql and redis-server packages")
    return found[-1].parent


def _as_postgres(*command: str | Path) -> None:
    """Run a PostgreSQL tool as the ``postgres`` user (it refuses root), or as ourselves."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *map(str, command)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"


class Postgres:
    """A throw-away PostgreSQL cluster: ``start``, ``stop`` (fast or immediate), again."""

    def __init__(self, root: Path) -> None:
        self.bin = postgres_bin()
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(root, account.pw_uid, account.pw_gid)
        _as_postgres(
            self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync"
        )

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        _as_postgres(
            self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "log",
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown; ``immediate``: the server dies, as on a crash."""
        _as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, straight from the database (for the integrity checks)."""
        with psycopg.connect(self.url, connect_timeout=5) as connection:
            return connection.execute(sql).fetchall()  # type: ignore[arg-type]


class Redis:
    """A throw-away ``redis-server`` that can be stopped and started again on its port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until it answers."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"redis-server exited with {self.process.returncode} on port {self.port}"
                )
            try:
                with tcp_connection(self.port) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        """Kill it (its data is only a cache)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT)
        self.process = None


@contextmanager
def tcp_connection(port: int) -> Iterator[Any]:
    """A plain TCP connection to a local port."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        yield sock
    finally:
        sock.close()


@dataclass
class Stack:
    """The service (two workers) on its own PostgreSQL and Redis."""

    postgres: Postgres
    redis: Redis
    server: Server
    env: dict[str, str]
    root: Path
    _phones: set[str] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        """Where the service listens."""
        return self.server.base_url

    def client(self, **options: Any) -> httpx.Client:
        """An HTTP client of the service."""
        return httpx.Client(base_url=self.base_url, timeout=TIMEOUT, **options)

    def new_phone(self) -> str:
        """A phone no earlier request of this stack used."""
        while True:
            phone = f"+7912{secrets.randbelow(10**7):07d}"
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def sign_in(self, client: httpx.Client) -> dict[str, Any]:
        """A new user's verify-code answer (demo mode gives the code)."""
        phone = self.new_phone()
        sent = client.post("/api/v1/auth/send-code/", json={"phone": phone})
        assert sent.status_code == 200, sent.text
        verified = client.post(
            "/api/v1/auth/verify-code/", json={"phone": phone, "code": sent.json()["debug_code"]}
        )
        assert verified.status_code == 200, verified.text
        return dict(verified.json())

    def log_text(self) -> str:
        """The server's output so far."""
        return self.server.log.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the launcher)."""
        pid = self.server.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [
            int(child)
            for child in children
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
        ]


def proc_status(pid: int) -> dict[str, int]:
    """``Threads`` and ``VmRSS`` (kB) of a process."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Threads", "VmRSS"):
            values[name] = int(value.split()[0])
    return values


@contextmanager
def running_stack(**variables: str) -> Iterator[Stack]:
    """PostgreSQL, Redis, migrations and the service with ``variables``; all removed after."""
    root = Path(tempfile.mkdtemp(prefix="faults-"))
    postgres = Postgres(root)
    redis = Redis(root)
    server: Server | None = None
    try:
        postgres.start()
        redis.start()
        env = service_env(root / "unused.sqlite3")
        env.update(
            DATABASE_URL=postgres.url,
            REDIS_URL=redis.url,
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(48),
            ALLOWED_HOSTS="127.0.0.1,localhost",
            AUTH_EXPOSE_CODES="true",
            AUTH_RATE_LIMITS="off",
            SMS_BACKEND="console",
            SMS_DELAY="0",
            WEB_CONCURRENCY="2",
            LOG_LEVEL="WARNING",
        )
        env.update(variables)
        manage(env, "migrate", "--noinput")
        server = start_server(env, root / "server.log", timeout=60)
        yield Stack(postgres=postgres, redis=redis, server=server, env=env, root=root)
    finally:
        if server is not None:
            stop_server(server.process)
        redis.stop()
        with suppress(AssertionError):  # already stopped
            postgres.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    """An answer and the seconds it took."""
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def in_parallel(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(0..count-1)`` on ``count`` threads; results in order."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(work, range(count)))


def assert_unavailable(answer: httpx.Response, took: float, within: float) -> None:
    """A ``503 service_unavailable`` with ``Retry-After``, in time."""
    assert answer.status_code == 503, (answer.status_code, answer.text)
    assert answer.headers["Retry-After"].isdigit(), answer.headers
    if answer.headers["Content-Type"].startswith("application/json"):
        assert answer.json()["code"] == "service_unavailable", answer.text
    assert took < within, f"the 503 took {took:.2f} s"


@dataclass
class RawAnswer:
    """One HTTP answer read off a plain socket, and when it came."""

    status: int
    headers: dict[str, str]
    body: bytes
    took: float


async def raw_request(port: int, method: str, path: str, body: bytes = b"") -> RawAnswer:
    """One request on a connection of its own (cheap enough for thousands at once).

    ``took`` runs from the moment the request is sent (the connection is up) to the end of
    the answer: what the server took, not how long the client was busy opening sockets.
    """
    import asyncio

    async with asyncio.timeout(RAW_TIMEOUT):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
            started = time.monotonic()
            raw = await reader.read()
        finally:
            writer.close()
    took = time.monotonic() - started
    header_block, _, content = raw.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), raw[:200]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(lines[0].split()[1]), headers, content, took)
