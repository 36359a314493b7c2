"""``make bench``: start the real service under uvicorn and measure its routes side by side.

The service runs as in production (``DEBUG=false``, PostgreSQL with the connection pool,
Redis, console SMS with its real 1-2 s latency), on a database and a Redis database of its
own that every run recreates. Rate limits are off so the load is not refused.

Rows measured with wrk are compared with the bare endpoint measured by wrk, rows of the
Python generator with the bare endpoint measured by the Python generator: the ratio is the
route's own cost, not the difference between two load tools.
"""

from __future__ import annotations

import argparse
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
DATABASE = "phone_referrals_bench"
REDIS_URL = "redis://127.0.0.1:6379/6"
LUA = Path(__file__).with_name("report.lua")


@dataclass
class Row:
    """One measured line of the table."""

    route: str
    tool: str
    workers: int
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    baseline: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


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


def seed(env: dict[str, str], *, referrals: int, refresh_tokens: int) -> dict[str, object]:
    """Make the user with referrals and the refresh tokens; return the tokens."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "seed.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.seed",
                str(out),
                f"--referrals={referrals}",
                f"--refresh-tokens={refresh_tokens}",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        data: dict[str, object] = json.loads(out.read_text())
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(env: dict[str, str], *, workers: int) -> Iterator[str]:
    """The service under uvicorn as ``make run`` starts it; yields its base URL."""
    port = free_port()
    command = [
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
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}")
            try:
                probe = httpx.get(f"{base}/api/bench/bare", timeout=2, trust_env=False)
                if probe.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer within 60 s")
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


def measure_wrk(
    base: str,
    route: str,
    *,
    workers: int,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    label: str | None = None,
    baseline: str = "",
) -> Row:
    url = f"{base}{route}"
    wrk(url, seconds=2, connections=connections, headers=headers)  # warm the pools
    summary = wrk(url, seconds=seconds, connections=connections, headers=headers)
    errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Row(
        route=label or f"GET {route}",
        tool="wrk",
        workers=workers,
        concurrency=connections,
        requests=summary["requests"],
        errors=errors,
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        baseline=baseline,
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def row_from(
    outcome: loadgen.Outcome, route: str, *, workers: int, concurrency: int, baseline: str = ""
) -> Row:
    return Row(
        route=route,
        tool="python",
        workers=workers,
        concurrency=concurrency,
        requests=outcome.requests,
        errors=outcome.errors,
        seconds=outcome.wall,
        p50_ms=statistics.median(outcome.latencies) * 1000 if outcome.latencies else 0.0,
        p99_ms=percentile(outcome.latencies, 99) * 1000,
        baseline=baseline,
    )


def print_table(rows: list[Row]) -> None:
    by_label = {f"{r.route}|{r.tool}|{r.workers}": r for r in rows}
    header = (
        f"{'route':<38} {'tool':<6} {'wk':>2} {'conc':>4} {'requests':>8} {'errors':>6} "
        f"{'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in rows:
        base = by_label.get(row.baseline)
        ratio = f"{row.rps / base.rps:.2f}x" if base and base.rps else "-"
        print(
            f"{row.route:<38} {row.tool:<6} {row.workers:>2} {row.concurrency:>4} "
            f"{row.requests:>8} {row.errors:>6} {row.rps:>8.0f} {row.p50_ms:>8.1f} "
            f"{row.p99_ms:>8.1f} {ratio:>8}"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--referrals", type=int, default=100)
    parser.add_argument("--refresh-tokens", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32, help="Python generator clients")
    parser.add_argument("--python-requests", type=int, default=5000, help="bare via Python")
    parser.add_argument(
        "--bursts", default="100,500", help="sizes of the send-code bursts (requests at once)"
    )
    args = parser.parse_args()
    burst_sizes = [int(size) for size in args.bursts.split(",")]

    env = service_env()
    load_before = os.getloadavg()[0]
    print(f"Preparing database {DATABASE} and Redis {REDIS_URL} ...", flush=True)
    prepare_storage(env)
    tokens = seed(env, referrals=args.referrals, refresh_tokens=args.refresh_tokens)
    auth = {"Authorization": f"Bearer {tokens['access']}"}
    refresh_tokens = tokens["refresh"]
    assert isinstance(refresh_tokens, list)
    bodies = [json.dumps({"refresh": token}).encode() for token in refresh_tokens]

    rows: list[Row] = []
    wrk_bare = "GET /api/bench/bare|wrk|1"
    py_bare = "GET /api/bench/bare|python|1"
    profile = f"GET /api/v1/profile/ ({args.referrals} refs)"
    timed = {"seconds": args.seconds, "connections": args.connections}
    bursts: list[Burst] = []

    print("Measuring with 1 worker ...", flush=True)
    with server(env, workers=1) as base:
        rows.append(measure_wrk(base, "/api/bench/bare", workers=1, **timed))
        rows.append(measure_wrk(base, "/healthz", workers=1, baseline=wrk_bare, **timed))
        rows.append(
            measure_wrk(
                base,
                "/api/v1/profile/",
                workers=1,
                headers=auth,
                label=profile,
                baseline=wrk_bare,
                **timed,
            )
        )
        bare = loadgen.closed_loop(
            f"{base}/api/bench/bare",
            concurrency=args.concurrency,
            count=args.python_requests,
            max_seconds=60,
        )
        rows.append(row_from(bare, "GET /api/bench/bare", workers=1, concurrency=args.concurrency))
        refreshed = loadgen.closed_loop(
            f"{base}/api/v1/auth/token/refresh/",
            concurrency=args.concurrency,
            count=len(bodies),
            max_seconds=60,
            method="POST",
            bodies=bodies,
        )
        rows.append(
            row_from(
                refreshed,
                "POST /api/v1/auth/token/refresh/",
                workers=1,
                concurrency=args.concurrency,
                baseline=py_bare,
            )
        )
        for number, size in enumerate(burst_sizes):
            burst = send_code_burst(base, size, prefix=f"91{number}")
            bursts.append(burst)
            rows.append(
                row_from(
                    burst.outcome,
                    "POST /api/v1/auth/send-code/ (burst)",
                    workers=1,
                    concurrency=size,
                )
            )

    print("Measuring with 2 workers ...", flush=True)
    with server(env, workers=2) as base:
        rows.append(measure_wrk(base, "/api/bench/bare", workers=2, baseline=wrk_bare, **timed))
        rows.append(
            measure_wrk(
                base,
                "/api/v1/profile/",
                workers=2,
                headers=auth,
                label=profile,
                baseline=wrk_bare,
                **timed,
            )
        )

    print_table(rows)
    print(
        f"\n{os.cpu_count()} CPUs; load average {load_before:.1f} before the run, "
        f"{os.getloadavg()[0]:.1f} after (other processes on the machine skew the figures)."
    )
    print("vs bare: throughput relative to /api/bench/bare measured by the same tool, 1 worker.")
    for burst in bursts:
        outcome = burst.outcome
        print(
            f"send-code burst of {outcome.requests} at once on one process: statuses "
            f"{dict(outcome.statuses)}, {outcome.failures} failed; all answered within "
            f"{outcome.wall:.2f} s ({outcome.requests / outcome.wall:.0f} sends/s; one after "
            f"another at the provider's 1-2 s they would take ~{outcome.requests * 1.5:.0f} s), "
            f"{sum(outcome.latencies) / outcome.wall:.0f} in flight on average, at most "
            f"{burst.peak_connections} PostgreSQL connections open."
        )
    failed = [row for row in rows if row.errors]
    if failed:
        print("\nErrors in: " + ", ".join(f"{row.route} ({row.errors})" for row in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
