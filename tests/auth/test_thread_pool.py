"""The sign-in's thread pool: bounded during a burst, no threads left once it is idle."""

from __future__ import annotations

import threading
import time

from phone_auth.threads import IdleEndingThreadPool


def pool_threads(prefix: str) -> int:
    return sum(1 for thread in threading.enumerate() if thread.name.startswith(prefix))


def test_a_burst_grows_the_pool_to_its_bound_and_idle_threads_end() -> None:
    pool = IdleEndingThreadPool(max_workers=4, thread_name_prefix="idle-test")
    release = threading.Event()
    futures = [pool.submit(release.wait, 10) for _ in range(12)]
    time.sleep(0.2)
    assert pool_threads("idle-test") == 4
    release.set()
    assert all(future.result(timeout=10) for future in futures)
    deadline = time.monotonic() + 5
    while pool_threads("idle-test") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool_threads("idle-test") == 0
    assert pool.submit(lambda: 42).result(timeout=5) == 42  # and it starts again on demand
    pool.shutdown()
