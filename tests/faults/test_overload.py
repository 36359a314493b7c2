"""A burst far beyond what the workers may take on: fast 503s or normal answers, nothing else.

Many more send-codes at once than the two workers' concurrency limits admit, each send
waiting 1-2 s on the simulated SMS provider: every answer is the normal ``200`` or a fast
``503 service_unavailable`` with ``Retry-After``; no ``500``, no reset connection; ``/livez``
answers throughout; each worker's threads stay bounded by its limit and fall back after.
The thresholds are generous (the machine is shared); the exact figures belong in the
benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.faults.support import RawAnswer, Stack, proc_status, raw_request, running_stack

BURST = int(os.environ.get("OVERLOAD_BURST", "600"))
LIMIT = int(os.environ.get("OVERLOAD_LIMIT", "50"))  # requests in flight per worker
# Seconds. The contract says 1 s for a 503 and 100 ms for /livez at p99; the machine running
# the suite is shared and often far busier than its two cores (the benchmarks measure the
# figures). A worker without the limit holds every send for seconds and starts a thread
# for each, which the counts below catch whatever the timing.
FAST = 5.0
LIVEZ_P99 = 2.0
THREADS_ABOVE_LIMIT = 40  # the pool's, the default executor's, the health probes', uvicorn's


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Two workers with the provider's real latency and a small concurrency limit."""
    with running_stack(SMS_DELAY="1-2", MAX_CONCURRENT_REQUESTS=str(LIMIT)) as running:
        yield running


def sample(stack: Stack, samples: dict[int, list[dict[str, int]]], stop: threading.Event) -> None:
    """Every worker's threads and memory, ten times a second until ``stop``."""
    while not stop.is_set():
        for pid in stack.worker_pids():
            try:
                samples.setdefault(pid, []).append(proc_status(pid))
            except FileNotFoundError:
                continue
        stop.wait(0.1)


# /livez is probed from a process of its own: the burst's client would otherwise delay it.
PROBE = """
import http.client, json, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
took = []
time.sleep(0.2)
for _ in range(count):
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/livez")
    answer = connection.getresponse()
    answer.read()
    connection.close()
    assert answer.status == 200, answer.status
    took.append(time.monotonic() - started)
    time.sleep(0.05)
print(json.dumps(took))
"""


async def burst(port: int, phones: list[str]) -> list[RawAnswer | BaseException]:
    """Every send at once, each on its own connection."""
    return await asyncio.gather(
        *(
            raw_request(
                port, "POST", "/api/v1/auth/send-code/", json.dumps({"phone": phone}).encode()
            )
            for phone in phones
        ),
        return_exceptions=True,
    )


def test_a_burst_gets_normal_answers_or_fast_503s_and_bounded_workers(stack: Stack) -> None:
    pids = stack.worker_pids()
    assert len(pids) == 2
    before = {pid: proc_status(pid) for pid in pids}
    samples: dict[int, list[dict[str, int]]] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(stack, samples, stop))
    sampler.start()
    port = int(stack.base_url.rsplit(":", 1)[1])
    phones = [stack.new_phone() for _ in range(BURST)]
    probe = subprocess.Popen(
        [sys.executable, "-c", PROBE, str(port), "40"], stdout=subprocess.PIPE, text=True
    )
    try:
        answers = asyncio.run(burst(port, phones))
        output, _ = probe.communicate(timeout=60)
    finally:
        stop.set()
        sampler.join()
        if probe.poll() is None:
            probe.kill()
    assert probe.returncode == 0
    livez: list[float] = json.loads(output)

    failures = [answer for answer in answers if isinstance(answer, BaseException)]
    assert failures == [], failures[:5]
    done = [answer for answer in answers if isinstance(answer, RawAnswer)]
    statuses = {answer.status for answer in done}
    assert statuses <= {200, 503}, statuses
    refused = [answer for answer in done if answer.status == 503]
    served = [answer for answer in done if answer.status == 200]
    assert served, "the workers served none of the burst"
    assert refused, f"{BURST} sends at once on 2 x {LIMIT} slots were all admitted"
    for answer in refused:
        assert json.loads(answer.body)["code"] == "service_unavailable"
        assert answer.headers["retry-after"].isdigit()
    slowest_refusal = max(answer.took for answer in refused)
    assert slowest_refusal < FAST, f"a 503 took {slowest_refusal:.2f} s"
    livez_p99 = statistics.quantiles(livez, n=100)[98]
    assert livez_p99 < LIVEZ_P99, f"/livez p99 {livez_p99 * 1000:.0f} ms"

    peak = {pid: max(s["Threads"] for s in samples[pid]) for pid in pids}
    for pid in pids:
        assert peak[pid] <= LIMIT + THREADS_ABOVE_LIMIT, (peak, before)

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        after = {pid: proc_status(pid) for pid in pids}
        if all(after[pid]["Threads"] <= before[pid]["Threads"] + 10 for pid in pids):
            break
        time.sleep(0.2)
    rss = {
        pid: (before[pid]["VmRSS"], max(s["VmRSS"] for s in samples[pid]), after[pid]["VmRSS"])
        for pid in pids
    }
    threads = [(before[p]["Threads"], peak[p], after[p]["Threads"]) for p in pids]
    print(
        f"\n{BURST} sends: {len(served)} x 200, {len(refused)} x 503 (slowest 503 "
        f"{slowest_refusal * 1000:.0f} ms, median "
        f"{statistics.median(a.took for a in refused) * 1000:.0f} ms); /livez p99 "
        f"{livez_p99 * 1000:.0f} ms; threads before/peak/after {threads}; "
        f"RSS kB before/peak/after {list(rss.values())}"
    )
    for pid in pids:
        assert after[pid]["Threads"] <= before[pid]["Threads"] + 10, (before, after)
    assert "Traceback" not in stack.log_text()


UNLIMITED_BURST = 300
REQUEST_THREADS = 8


def test_requests_waiting_on_the_provider_share_a_fixed_number_of_threads() -> None:
    """Admitted requests, however many, run their synchronous parts on a few threads."""
    with running_stack(SMS_DELAY="1-2", REQUEST_THREADS=str(REQUEST_THREADS)) as stack:
        pids = stack.worker_pids()
        samples: dict[int, list[dict[str, int]]] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=sample, args=(stack, samples, stop))
        sampler.start()
        port = int(stack.base_url.rsplit(":", 1)[1])
        try:
            answers = asyncio.run(burst(port, [stack.new_phone() for _ in range(UNLIMITED_BURST)]))
        finally:
            stop.set()
            sampler.join()
    statuses = [answer.status if isinstance(answer, RawAnswer) else answer for answer in answers]
    assert statuses == [200] * UNLIMITED_BURST, {str(s) for s in statuses}
    peak = {pid: max(s["Threads"] for s in samples[pid]) for pid in pids}
    assert all(threads <= REQUEST_THREADS + THREADS_ABOVE_LIMIT for threads in peak.values()), peak
