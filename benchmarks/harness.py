"""What the benchmarks share: the service's environment and storage, its server, wrk and
the Python load generator, each measurement returned as a ``benchmarks.table.Row``.

The service runs as in production (``DEBUG=false``, PostgreSQL with the connection pool,
Redis, console SMS with its real 1-2 s latency), on a database and a Redis database of its
own that every run recreates. Rate limits are off so the load is not refused.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import redis
from psycopg import sql

from benchmarks import loadgen

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
DATABASE = os.environ.get("BENCH_DATABASE", "phone_referrals_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
LUA = Path(__file__).with_name("report.lua")


def service_env() -> dict[str, str]:
    """The environment of every process that runs the service's code."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only a fallback
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "AUTH_RATE_LIMITS": "off",
        "AUTH_EXPOSE_CODES": "false",
        "SMS_BACKEND": "console",
        "SMS_DELAY": "1-2",
        "JWT_ACCESS_TTL": "3600",
        "LOG_LEVEL": "WARNING",
    }


def prepare_storage(env: dict[str, str]) -> None:
    """A fresh database, migrated, and an empty Redis database."""
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        name = sql.Identifier(DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    redis.Redis.from_url(REDIS_URL).flushdb()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def seed(env: dict[str, str], *, referrals: list[int], refresh_tokens: int) -> dict[str, object]:
    """Make the users with referrals and the refresh tokens; return the tokens."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "seed.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.seed",
                str(out),
                f"--referrals={','.join(str(n) for n in referrals)}",
                f"--refresh-tokens={refresh_tokens}",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        data: dict[str, object] = json.loads(out.read_text())
    # Statistics as a database in service has them: fresh tables would be planned blind.
    with psycopg.connect(f"{POSTGRES}/{DATABASE}", autocommit=True) as conn:
        conn.execute("ANALYZE")
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_command(*, port: int, workers: int) -> list[str]:
    """How the benchmarks start the service: the one line to change for another launcher."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        f"--host={HOST}",
        f"--port={port}",
        f"--workers={workers}",
        "--no-proxy-headers",
        "--loop=uvloop",
        "--http=httptools",
        "--lifespan=off",
        "--no-access-log",
        "--log-level=warning",
    ]


@contextmanager
def server(env: dict[str, str], *, workers: int) -> Iterator[str]:
    """The service as ``make run`` starts it, with ``workers`` processes; its base URL."""
    port = free_port()
    command = server_command(port=port, workers=workers)
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                probe = httpx.get(f"{base}/api/bench/bare", timeout=2, trust_env=False)
                if probe.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
) -> dict[str, int]:
    """One wrk run (one thread, so the server keeps the other core); its JSON summary."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=10s", "-s", str(LUA)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    summary: dict[str, int] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


@dataclass(frozen=True)
class Sample:
    """One timed run of one route: throughput, latency percentiles and failures."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk_sample(
    url: str, *, seconds: int, connections: int, headers: dict[str, str] | None = None
) -> Sample:
    """One wrk run of ``url``; non-2xx answers count as errors."""
    summary = wrk(url, seconds=seconds, connections=connections, headers=headers)
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Sample(
        rps=summary["requests"] / (summary["duration_us"] / 1e6),
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=errors,
    )


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def outcome_sample(outcome: loadgen.Outcome) -> Sample:
    """A run of the Python generator as a ``Sample``."""
    return Sample(
        rps=outcome.requests / outcome.wall if outcome.wall else 0.0,
        p50_ms=statistics.median(outcome.latencies) * 1000 if outcome.latencies else 0.0,
        p99_ms=percentile(outcome.latencies, 99) * 1000,
        errors=outcome.errors,
    )


@contextmanager
def database_connections(max_seconds: float) -> Iterator[list[int]]:
    """Sample the service's PostgreSQL connections every 50 ms while the block runs."""
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        deadline = time.monotonic() + max_seconds
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            while not stop.is_set() and time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DATABASE]
                ).fetchone()
                samples.append(int(row[0]) if row else 0)
                stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join(timeout=10)


@dataclass
class Burst:
    """A send-code burst: what the clients saw and how many database connections it used."""

    outcome: loadgen.Outcome
    peak_connections: int


def send_code_burst(base: str, size: int, *, prefix: str) -> Burst:
    """``size`` sign-in codes for ``size`` different phones, all requested at once."""
    bodies = [json.dumps({"phone": f"+7{prefix}{n:07d}"}).encode() for n in range(size)]
    with database_connections(max_seconds=90) as samples:
        outcome = loadgen.burst(f"{base}/api/v1/auth/send-code/", bodies=bodies, max_seconds=60)
    return Burst(outcome=outcome, peak_connections=max(samples, default=0))
