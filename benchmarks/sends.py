"""Send-code at the stack's speed: a burst of sends beside a bare async view that only waits.

Two figures, each beside its reference measured on the same server in the same run:

- 1,000 concurrent send-codes for distinct phones with the console sender's 1-2 s latency,
  2 workers, PostgreSQL and Redis, rate limits on (budgets raised for the run), against the
  same burst on ``/api/bench/delay`` (an async view that only awaits the same latency).
  The threads of each worker are sampled during the burst.
- Full sign-ins (send-code with no latency, then verify-code) per second from a closed loop
  of clients, beside the bare JSON view's requests per second from the same loop.

``rows()`` returns the table rows (figure, reference, ratio); ``python -m benchmarks.sends``
prints them. The database and the Redis database are recreated by every run.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
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
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_SENDS_DATABASE", "phone_referrals_bench_sends")
REDIS_URL = os.environ.get("BENCH_SENDS_REDIS_URL", "redis://127.0.0.1:6379/6")
WORKERS = 2
BURST = 1000
SIGN_IN_CLIENTS = 32
SIGN_IN_SECONDS = 10.0
RAISED = "1000000"


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure, the reference it is compared with, and the ratio."""

    figure: str
    reference: str
    ratio: str


def service_env(*, delay: str) -> dict[str, str]:
    """Production settings, console SMS with ``delay``, rate limits on with raised budgets."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only a fallback
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "REDIS_MAX_CONNECTIONS": "100",
        "AUTH_RATE_LIMITS": "on",
        "AUTH_EXPOSE_CODES": "true",
        "SMS_BACKEND": "console",
        "SMS_DELAY": delay,
        "LOG_LEVEL": "ERROR",
    }
    for name in ("PHONE_HOUR", "PHONE_DAY", "IP_HOUR", "PHONE_ALL_DAY", "GLOBAL_HOUR"):
        env[f"AUTH_SEND_{name}"] = RAISED
    for name in ("IP_HOUR", "PHONE_DAY", "IP_PHONE_DAY"):
        env[f"AUTH_WRONG_CODES_{name}"] = RAISED
    return env


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running uvicorn: its base URL and the master's process id."""

    base: str
    pid: int


@contextmanager
def server(env: dict[str, str], *, workers: int) -> Iterator[Server]:
    """The service under uvicorn as ``make run`` starts it."""
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
        "--backlog=4096",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}")
            try:
                if httpx.get(f"{base}/api/bench/bare", timeout=2, trust_env=False).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer within 60 s")
            time.sleep(0.2)
        yield Server(base=base, pid=process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def _workers(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) != master:
                continue
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in command:  # not multiprocessing's resource tracker
                pids.append(int(entry.name))
    return pids


class ThreadSampler:
    """The largest thread count of any worker process while it runs."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in _workers(self.master):
                try:
                    self.peak = max(self.peak, len(os.listdir(f"/proc/{pid}/task")))
                except OSError:
                    continue
            time.sleep(0.05)

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def phones(start: int, count: int) -> list[str]:
    """Distinct Russian mobile numbers."""
    return [f"+7912{n:07d}" for n in range(start, start + count)]


def send_burst(base: str, route: str, numbers: list[str]) -> loadgen.Outcome:
    """One request per number, all at once."""
    bodies = [json.dumps({"phone": number}).encode() for number in numbers]
    return loadgen.burst(f"{base}{route}", bodies=bodies, max_seconds=120)


async def _sign_ins(
    base: str, numbers: list[str], *, clients: int, seconds: float
) -> tuple[int, int, float]:
    loadgen._local_only(base)
    queue = iter(numbers)
    done = failed = 0
    tls = ssl.create_default_context()
    pool = [
        httpx.AsyncClient(base_url=base, verify=tls, timeout=30.0, trust_env=False)
        for _ in range(clients)
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal done, failed
        for number in queue:
            if time.perf_counter() > deadline:
                return
            try:
                sent = await client.post("/api/v1/auth/send-code/", json={"phone": number})
                code = sent.json()["debug_code"]
                verified = await client.post(
                    "/api/v1/auth/verify-code/", json={"phone": number, "code": code}
                )
            except (httpx.HTTPError, KeyError, ValueError):
                failed += 1
                continue
            if verified.status_code == 200:
                done += 1
            else:
                failed += 1

    try:
        await asyncio.gather(*(user(client) for client in pool))
        wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    return done, failed, wall


def rows(*, burst: int = BURST, workers: int = WORKERS) -> list[Row]:
    """Run both measurements; the table rows."""
    table: list[Row] = []
    env = service_env(delay="1-2")
    prepare_storage(env)
    with server(env, workers=workers) as running:
        loadgen.burst(  # warm both routes and the connection pools
            f"{running.base}/api/v1/auth/send-code/",
            bodies=[json.dumps({"phone": n}).encode() for n in phones(9_000_000, 50)],
            max_seconds=60,
        )
        with ThreadSampler(running.pid) as bare_threads:
            bare = send_burst(running.base, "/api/bench/delay", phones(0, burst))
        with ThreadSampler(running.pid) as send_threads:
            sends = send_burst(running.base, "/api/v1/auth/send-code/", phones(0, burst))
    ok = sends.statuses.get(200, 0)
    table.append(
        Row(
            figure=(
                f"{burst} concurrent send-codes, 1-2 s SMS delay, {workers} workers: "
                f"{sends.wall:.2f} s, {ok}/{burst} answered 200, "
                f"p50 {percentile(sends.latencies, 50):.2f} s, "
                f"peak threads per worker {send_threads.peak}"
            ),
            reference=(
                f"bare async delay view, same burst: {bare.wall:.2f} s, "
                f"peak threads per worker {bare_threads.peak}"
            ),
            ratio=f"{sends.wall / bare.wall:.2f}x" if bare.wall else "-",
        )
    )

    env = service_env(delay="0")
    prepare_storage(env)
    with server(env, workers=workers) as running:
        asyncio.run(
            _sign_ins(running.base, phones(8_000_000, 200), clients=SIGN_IN_CLIENTS, seconds=5)
        )
        bare_loop = loadgen.closed_loop(
            f"{running.base}/api/bench/bare",
            concurrency=SIGN_IN_CLIENTS,
            count=10**6,
            max_seconds=SIGN_IN_SECONDS,
        )
        done, failed, wall = asyncio.run(
            _sign_ins(
                running.base,
                phones(1_000_000, 10**6),
                clients=SIGN_IN_CLIENTS,
                seconds=SIGN_IN_SECONDS,
            )
        )
    bare_rps = bare_loop.requests / bare_loop.wall if bare_loop.wall else 0.0
    sign_ins = done / wall if wall else 0.0
    table.append(
        Row(
            figure=(
                f"full sign-ins (send, delay 0, + verify), {SIGN_IN_CLIENTS} clients: "
                f"{sign_ins:.0f}/s ({failed} failed)"
            ),
            reference=f"bare JSON view, same clients: {bare_rps:.0f} req/s",
            ratio=f"{sign_ins / bare_rps:.3f}x" if bare_rps else "-",
        )
    )
    return table


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def main() -> None:
    """Print the table."""
    for row in rows():
        print(f"{row.figure}\n    vs {row.reference}\n    ratio {row.ratio}")


if __name__ == "__main__":
    main()
