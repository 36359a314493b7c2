"""Send-code at the stack's speed, and under a burst beyond what the workers take on.

Rows for ``make bench`` (``rows(bench)``, see ``benchmarks/table.py``), each beside a
reference measured on the same server in the same run:

- 1,000 send-codes at once for distinct phones with the console sender's 1-2 s latency,
  PostgreSQL and Redis, rate limits on (budgets raised for the run), against the same burst
  on ``/api/bench/delay`` (an async view that only awaits the same latency); the threads
  and memory of each worker are sampled throughout.
- Full sign-ins (send-code with no latency, then verify-code) per second from a closed loop
  of clients, beside the bare JSON view's requests per second from the same loop.
- Overload: 2,000 send-codes at once with the default concurrency limits: how many got
  ``200`` and how many the fast ``503``, the slowest ``503``, and ``/livez`` probed from a
  process of its own during the burst beside ``/livez`` idle just before it.

``python -m benchmarks.sends`` prepares the storage and prints these rows alone.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from benchmarks import loadgen
from benchmarks.harness import (
    ROOT,
    Server,
    Usage,
    cpu_seconds,
    outcome_sample,
    peaks,
    percentile,
    phone_burst,
    phones,
    prepare_storage,
    server,
    service_env,
    usage,
)
from benchmarks.table import Bench, Row, render
from config.handler import IDLE_SECONDS

SEND = "/api/v1/auth/send-code/"
DELAY = "/api/bench/delay"
BURST = 1000
OVERLOAD = 2000
BURST_TARGET = 1.25  # the send burst's wall time against the delay view's, at most
SLOWEST_503_MS = 1000.0
LIVEZ_P99_MS = 100.0
SIGN_IN_CLIENTS = 32
SETTLE = IDLE_SECONDS + 2  # seconds after the overload burst its threads are counted
RAISED = "1000000"
# Phone numbers of each measurement, so that no two ever share one (each gets a cooldown).
WARM, ROUNDS, FLOOD, SIGN_INS = 9_000_000, 0, 5_000_000, 1_000_000


def sends_env(env: dict[str, str], *, delay: str) -> dict[str, str]:
    """``env`` with rate limits on, budgets raised for the run, codes in the answers."""
    changed = {
        **env,
        "AUTH_RATE_LIMITS": "on",
        "AUTH_EXPOSE_CODES": "true",
        "SMS_DELAY": delay,
    }
    for name in ("PHONE_HOUR", "PHONE_DAY", "IP_HOUR", "PHONE_ALL_DAY", "GLOBAL_HOUR"):
        changed[f"AUTH_SEND_{name}"] = RAISED
    for name in ("IP_HOUR", "PHONE_DAY", "IP_PHONE_DAY"):
        changed[f"AUTH_WRONG_CODES_{name}"] = RAISED
    return changed


def unexpected(outcome: loadgen.Outcome, *expected: int) -> int:
    """Failures (resets, no answer) and answers of any status but ``expected``."""
    return outcome.failures + sum(n for s, n in outcome.statuses.items() if s not in expected)


def errors_text(outcomes: list[loadgen.Outcome], *expected: int) -> str:
    """What the errors were, ``""`` for none: ``"; errors: 12 x 503, 1 without an answer ..."``."""
    statuses: Counter[int] = Counter()
    failures = 0
    for outcome in outcomes:
        failures += outcome.failures
        statuses.update({s: n for s, n in outcome.statuses.items() if s not in expected})
    parts = [f"{n:,} x {status}" for status, n in sorted(statuses.items())]
    if failures:
        parts.append(f"{failures:,} without an answer (reset or timeout)")
    return f"; errors: {', '.join(parts)}" if parts else ""


def per_request(cpu: float, outcomes: list[loadgen.Outcome]) -> float:
    """Milliseconds of CPU per request answered."""
    answered = sum(o.requests for o in outcomes)
    return cpu * 1000 / answered if answered else 0.0


def burst_row(running: Server, bench: Bench) -> Row:
    """1,000 sends at once beside the same burst on the delay view, ``bench.rounds`` times."""
    base = running.base_url
    phone_burst(base, SEND, phones(WARM, 50))  # warm the pools and the code paths
    phone_burst(base, DELAY, phones(WARM, 50))
    sends: list[loadgen.Outcome] = []
    delays: list[loadgen.Outcome] = []
    cpu = {SEND: 0.0, DELAY: 0.0}
    pids = running.worker_pids()
    with peaks(running) as seen:
        for number in range(bench.rounds):
            numbers = phones(ROUNDS + number * BURST, BURST)
            # Each round starts with the other route, so neither always follows the other.
            for route in (SEND, DELAY) if number % 2 else (DELAY, SEND):
                before = cpu_seconds(pids)
                (sends if route == SEND else delays).append(phone_burst(base, route, numbers))
                cpu[route] += cpu_seconds(pids) - before
    answered = sum(o.statuses.get(200, 0) for o in sends)
    samples = [outcome_sample(o) for o in sends]
    return Row(
        name=f"POST send-code, {BURST:,} at once, 1-2 s SMS delay, rate limits on",
        figure=statistics.median(o.wall for o in sends) * 1000,
        unit="ms",
        reference=statistics.median(o.wall for o in delays) * 1000,
        reference_name=f"same burst on {DELAY}",
        higher_is_better=False,
        target=BURST_TARGET,
        workers=bench.workers,
        concurrency=BURST,
        tool="python",
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        errors=sum(unexpected(o, 200) for o in sends),
        note=(
            f"median of {len(sends)}; {answered:,}/{BURST * len(sends):,} answered 200; "
            f"workers' CPU {per_request(cpu[SEND], sends):.1f} ms a send, "
            f"{per_request(cpu[DELAY], delays):.1f} ms a delay-view request; "
            f"peak per worker {seen.usage}; {seen.connections_text}"
            f"{errors_text(sends, 200)}"
        ),
    )


@dataclass
class Probe:
    """``/livez`` probed from another process: ``(started, seconds, status)`` each."""

    process: subprocess.Popen[str]

    def results(self) -> list[tuple[float, float, int]]:
        out, _ = self.process.communicate(timeout=30)  # closing stdin ends the probe
        return [tuple(p) for p in json.loads(out.strip().splitlines()[-1])]  # type: ignore[misc]


def start_probe(port: int) -> Probe:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.probe", str(port), "120"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # "ready"
    return Probe(process)


def overload_rows(running: Server, bench: Bench, idle: Usage) -> list[Row]:
    """2,000 sends at once on the default concurrency limits, ``/livez`` probed throughout."""
    probe = start_probe(running.port)
    time.sleep(1.5)  # probes of the idle service first: the reference
    with peaks(running) as seen:
        started = time.monotonic()
        flood = phone_burst(running.base_url, SEND, phones(FLOOD, OVERLOAD))
        ended = time.monotonic()
    time.sleep(SETTLE)  # idle threads end after the handler's IDLE_SECONDS
    after = usage(running.worker_pids())
    probes = probe.results()
    idle_probes = [took for at, took, _ in probes if at < started]
    during = [(took, status) for at, took, status in probes if started <= at <= ended]
    during_ms = [took * 1000 for took, _ in during]
    refused = [took * 1000 for status, took in flood.answers if status == 503]
    how: dict[str, object] = {"workers": bench.workers, "tool": "python"}
    return [
        Row(
            name=(
                f"POST send-code, {OVERLOAD:,} at once, 1-2 s SMS delay, default limits "
                "(overload): slowest 503"
            ),
            figure=max(refused, default=0.0),
            unit="ms",
            higher_is_better=False,
            bound=SLOWEST_503_MS,
            concurrency=OVERLOAD,
            p50_ms=percentile(refused, 50) if refused else None,
            p99_ms=percentile(refused, 99) if refused else None,
            errors=unexpected(flood, 200, 503),
            note=(
                f"{flood.statuses.get(200, 0):,} x 200, {len(refused):,} x 503 in "
                f"{flood.wall:.1f} s; per worker {idle} idle, {seen.usage} at the peak, "
                f"{after} {SETTLE:.0f} s after; {seen.connections_text}"
                f"{errors_text([flood], 200, 503)}"
            ),
            **how,  # type: ignore[arg-type]
        ),
        Row(
            name="GET /livez during that burst, from another process: p99",
            figure=percentile(during_ms, 99),
            unit="ms",
            reference=percentile(idle_probes, 99) * 1000,
            reference_name="/livez idle just before",
            higher_is_better=False,
            bound=LIVEZ_P99_MS,
            concurrency=1,
            p50_ms=percentile(during_ms, 50),
            p99_ms=percentile(during_ms, 99),
            errors=sum(1 for _, status in during if status != 200),
            note=f"{len(during)} probes, a new connection each",
            **how,  # type: ignore[arg-type]
        ),
    ]


async def _sign_ins(
    base: str, numbers: Iterator[str], *, clients: int, seconds: float
) -> loadgen.Outcome:
    """Closed-loop sign-ins: send-code, then verify-code with the code of its answer."""
    loadgen.local_only(base)
    outcome = loadgen.Outcome()
    tls = ssl.create_default_context()
    pool = [
        httpx.AsyncClient(
            base_url=base,
            verify=tls,
            timeout=30.0,
            trust_env=False,
            limits=httpx.Limits(max_connections=1),
        )
        for _ in range(clients)
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def user(client: httpx.AsyncClient) -> None:
        for number in numbers:  # one shared iterator: every phone is used once
            if time.perf_counter() > deadline:
                return
            began = time.perf_counter()
            try:
                sent = await client.post(SEND, json={"phone": number})
                code = sent.json()["debug_code"]
                verified = await client.post(
                    "/api/v1/auth/verify-code/", json={"phone": number, "code": code}
                )
            except (httpx.HTTPError, KeyError, ValueError):
                outcome.failures += 1
                continue
            outcome.latencies.append(time.perf_counter() - began)
            outcome.statuses[verified.status_code] += 1

    try:
        await asyncio.gather(*(user(client) for client in pool))
        outcome.wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    return outcome


def sign_in_row(running: Server, bench: Bench) -> Row:
    """Sign-ins per second beside the bare view's requests per second, interleaved."""
    base = running.base_url
    numbers = iter(phones(SIGN_INS, 2_000_000))
    asyncio.run(_sign_ins(base, numbers, clients=SIGN_IN_CLIENTS, seconds=2))  # warm up
    bare: list[loadgen.Outcome] = []
    signed: list[loadgen.Outcome] = []
    cpu = {"bare": 0.0, "signed": 0.0}
    pids = running.worker_pids()
    for _ in range(bench.rounds):
        before = cpu_seconds(pids)
        bare.append(
            loadgen.closed_loop(
                f"{base}/api/bench/bare",
                concurrency=SIGN_IN_CLIENTS,
                count=10**7,
                max_seconds=bench.seconds,
            )
        )
        middle = cpu_seconds(pids)
        signed.append(
            asyncio.run(_sign_ins(base, numbers, clients=SIGN_IN_CLIENTS, seconds=bench.seconds))
        )
        cpu["bare"] += middle - before
        cpu["signed"] += cpu_seconds(pids) - middle
    samples = [outcome_sample(o) for o in signed]
    return Row(
        name="sign-ins per second: POST send-code (no SMS delay) + POST verify-code",
        figure=statistics.median(s.rps for s in samples),
        unit="/s",
        reference=statistics.median(outcome_sample(o).rps for o in bare),
        reference_name="bare JSON view's requests, python",
        workers=bench.workers,
        concurrency=SIGN_IN_CLIENTS,
        tool="python",
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        errors=sum(unexpected(o, 200) for o in signed),
        note=(
            f"median of {len(signed)}; two requests each, rate limits on; workers' CPU "
            f"{per_request(cpu['signed'], signed):.1f} ms a sign-in, "
            f"{per_request(cpu['bare'], bare):.1f} ms a bare request{errors_text(signed, 200)}"
        ),
    )


def rows(bench: Bench) -> list[Row]:
    """The send-code, overload and sign-in rows, on servers of their own."""
    with server(sends_env(bench.env, delay="1-2"), workers=bench.workers) as running:
        idle = usage(running.worker_pids())
        table = [burst_row(running, bench)]
        table += overload_rows(running, bench, idle)
    with server(sends_env(bench.env, delay="0"), workers=bench.workers) as running:
        table.append(sign_in_row(running, bench))
    return table


def main() -> None:
    """Prepare the storage and print these rows alone."""
    env = service_env()
    prepare_storage(env)
    bench = Bench(env=env, workers=2, seconds=5, rounds=3)
    print(render(rows(bench)))


if __name__ == "__main__":
    main()
