"""A small asyncio load generator for what wrk cannot express: single-use bodies (each
refresh token is consumed once, through httpx) and a burst of requests sent all at once
(plain HTTP/1.1 on asyncio streams, cheap enough for thousands at once).

Every run is bounded both in requests and in seconds, and only talks to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx


@dataclass
class Outcome:
    """What one run saw, from the client's side."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    wall: float = 0.0
    peak_in_flight: int = 0
    #: ``(status, seconds)`` of every answer, for figures of one status (the slowest 503).
    answers: list[tuple[int, float]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return self.failures + sum(n for status, n in self.statuses.items() if status >= 400)


def local_only(url: str) -> None:
    """Refuse any address but this machine's loopback."""
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"benchmarks only load 127.0.0.1, not {url}")


async def _run(
    url: str,
    *,
    method: str,
    bodies: Sequence[bytes] | None,
    count: int,
    concurrency: int,
    max_seconds: float,
    headers: dict[str, str],
) -> Outcome:
    local_only(url)
    outcome = Outcome()
    indexes = iter(range(count))
    in_flight = 0
    # One client (one keep-alive connection) per virtual user, made before the clock starts:
    # a single pool of hundreds of connections costs the client more than the server.
    tls = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(
            verify=tls, timeout=30.0, trust_env=False, limits=httpx.Limits(max_connections=1)
        )
        for _ in range(concurrency)
    ]
    started = time.perf_counter()
    deadline = started + max_seconds

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal in_flight
        for index in indexes:  # one shared iterator: every index is taken once
            if time.perf_counter() > deadline:
                return
            body = bodies[index] if bodies is not None else None
            in_flight += 1
            outcome.peak_in_flight = max(outcome.peak_in_flight, in_flight)
            sent = time.perf_counter()
            try:
                response = await client.request(method, url, content=body, headers=headers)
            except httpx.HTTPError:
                outcome.failures += 1
                continue
            finally:
                in_flight -= 1
            outcome.latencies.append(time.perf_counter() - sent)
            outcome.statuses[response.status_code] += 1

    try:
        await asyncio.gather(*(user(client) for client in clients))
        outcome.wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return outcome


def closed_loop(
    url: str,
    *,
    concurrency: int,
    count: int,
    max_seconds: float,
    method: str = "GET",
    bodies: Sequence[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> Outcome:
    """``concurrency`` clients, each sending its next request when the last one answered."""
    if bodies is not None:
        count = min(count, len(bodies))
    return asyncio.run(
        _run(
            url,
            method=method,
            bodies=bodies,
            count=count,
            concurrency=concurrency,
            max_seconds=max_seconds,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
    )


async def _one(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | BaseException,
    request: bytes,
    outcome: Outcome,
) -> None:
    if isinstance(connection, BaseException):
        outcome.failures += 1
        return
    reader, writer = connection
    try:
        writer.write(request)
        await writer.drain()
        sent = time.perf_counter()
        raw = await reader.read()  # the request says Connection: close
        took = time.perf_counter() - sent
    except OSError:  # a reset connection
        outcome.failures += 1
        return
    finally:
        writer.close()
    status_line = raw.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        outcome.failures += 1  # closed without an answer
        return
    status = int(status_line[1])
    outcome.latencies.append(took)
    outcome.statuses[status] += 1
    outcome.answers.append((status, took))


async def _burst(url: str, bodies: Sequence[bytes], max_seconds: float) -> Outcome:
    local_only(url)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    outcome = Outcome()
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    requests = [head.replace("{length}", str(len(body))).encode() + body for body in bodies]
    # Every connection is up before the clock starts: the burst is the requests, all at once.
    connections = await asyncio.gather(
        *(asyncio.open_connection(host, port) for _ in requests), return_exceptions=True
    )
    outcome.peak_in_flight = len(requests)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(max_seconds):
            await asyncio.gather(
                *(_one(c, r, outcome) for c, r in zip(connections, requests, strict=True))
            )
    except TimeoutError:
        outcome.failures += len(requests) - len(outcome.answers) - outcome.failures
    outcome.wall = time.perf_counter() - started
    for connection in connections:
        if not isinstance(connection, BaseException):
            connection[1].close()
    return outcome


def burst(url: str, *, bodies: Sequence[bytes], max_seconds: float) -> Outcome:
    """Every body POSTed at once, each on a connection of its own opened beforehand.

    A latency runs from the moment a request is written to the end of its answer; a reset
    or a connection closed without an answer counts as a failure.
    """
    return asyncio.run(_burst(url, bodies, max_seconds))
