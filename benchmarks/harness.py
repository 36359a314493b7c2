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
from typing import IO

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


def server_command(*, port: int) -> list[str]:
    """How the benchmarks start the service: the launcher production runs (``config/serve.py``)."""
    return [sys.executable, "-m", "config.serve", f"--host={HOST}", f"--port={port}"]


@dataclass(frozen=True)
class Server:
    """A running service: its base URL, port and the launcher's process id."""

    base_url: str
    port: int
    pid: int

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (children of the launcher but its resource tracker)."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return []
        pids = []
        for child in children:
            try:
                if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                    pids.append(int(child))
            except OSError:
                continue
        return pids


@contextmanager
def server(env: dict[str, str], *, workers: int) -> Iterator[Server]:
    """The service as ``make run`` starts it, with ``workers`` processes.

    Its output goes to a file of its own, shown if it does not come up.
    """
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            server_command(port=port),
            cwd=ROOT,
            env={**env, "WEB_CONCURRENCY": str(workers)},
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://{HOST}:{port}"
        try:
            _wait_until_up(process, base, log)
            yield Server(base_url=base, port=port, pid=process.pid)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        problem = ""
        if process.poll() is not None:
            problem = f"the server exited with {process.returncode}"
        elif time.monotonic() > deadline:
            problem = "the server did not answer within 60 s"
        if problem:
            log.seek(0)
            raise RuntimeError(f"{problem}:\n{log.read()[-4000:].decode(errors='replace')}")
        try:
            if httpx.get(f"{base}/api/bench/bare", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


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


def proc_status(pid: int) -> tuple[int, int]:
    """``Threads`` and ``VmRSS`` (kB) of a process, from ``/proc/<pid>/status``."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Threads", "VmRSS"):
            values[name] = int(value.split()[0])
    return values["Threads"], values["VmRSS"]


@dataclass(frozen=True)
class Usage:
    """The most threads and resident memory any one worker had."""

    threads: int
    rss_mb: float

    def __str__(self) -> str:
        return f"{self.threads} threads, {self.rss_mb:.0f} MB"


def usage(pids: list[int]) -> Usage:
    """The workers' threads and memory now (the largest of each over the workers)."""
    statuses = []
    for pid in pids:
        try:
            statuses.append(proc_status(pid))
        except (OSError, KeyError):
            continue
    return Usage(
        threads=max((t for t, _ in statuses), default=0),
        rss_mb=max((r for _, r in statuses), default=0) / 1024,
    )


@dataclass
class Peaks:
    """What the samplers saw while a block ran: per-worker peaks and database connections
    (``None`` when PostgreSQL had no connection to spare for the sampler)."""

    threads: int = 0
    rss_mb: float = 0.0
    connections: int | None = None

    @property
    def usage(self) -> Usage:
        return Usage(threads=self.threads, rss_mb=self.rss_mb)

    @property
    def connections_text(self) -> str:
        if self.connections is None:
            return "PostgreSQL connections not sampled (the server had none to spare)"
        return f"{self.connections} PostgreSQL connections at most"


def _count_connections(conn: psycopg.Connection[tuple[object, ...]] | None) -> int | None:
    if conn is None:
        return None
    try:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DATABASE]
        ).fetchone()
    except psycopg.Error:
        return None
    return int(str(row[0])) if row else 0


@contextmanager
def peaks(running: Server, max_seconds: float = 300) -> Iterator[Peaks]:
    """Sample the workers' threads and memory and the service's PostgreSQL connections
    every 50 ms while the block runs."""
    seen = Peaks()
    stop = threading.Event()
    pids = running.worker_pids()

    def sample() -> None:
        deadline = time.monotonic() + max_seconds
        try:
            conn = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True)
        except psycopg.Error:  # a shared server may have no connection to spare
            conn = None
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                now = usage(pids)
                seen.threads = max(seen.threads, now.threads)
                seen.rss_mb = max(seen.rss_mb, now.rss_mb)
                count = _count_connections(conn)
                if count is not None:
                    seen.connections = max(seen.connections or 0, count)
                stop.wait(0.05)
        finally:
            if conn is not None:
                conn.close()

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=10)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (``/proc/<pid>/stat``)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def phones(start: int, count: int) -> list[str]:
    """Distinct Russian mobile numbers, ``+7912`` and seven digits from ``start`` on."""
    return [f"+7912{n:07d}" for n in range(start, start + count)]


def phone_burst(base: str, route: str, numbers: list[str]) -> loadgen.Outcome:
    """One ``{"phone": ...}`` POST to ``route`` per number, all at once."""
    bodies = [json.dumps({"phone": number}).encode() for number in numbers]
    return loadgen.burst(f"{base}{route}", bodies=bodies, max_seconds=120)
