"""A bounded thread pool whose threads end when it is idle.

The sign-in's blocking work (a few SQL statements, a cache round trip) runs on a small
shared pool instead of a thread per request; a burst grows the pool up to its bound, and
once the last task is done the threads end, so a worker's thread count comes back down.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class IdleEndingThreadPool(ThreadPoolExecutor):
    """At most ``max_workers`` threads, started on demand and ended when nothing is queued.

    A ``ThreadPoolExecutor`` to its callers (``sync_to_async`` takes one); the work goes to
    an inner pool that is replaced, and its threads ended, whenever the last task is done.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers, thread_name_prefix)  # starts no thread by itself
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._busy = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queue ``fn`` on the current pool, starting one if the last has ended."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_workers, self._prefix)
            self._busy += 1
            pool = self._pool
        future = pool.submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future[Any]) -> None:
        with self._lock:
            self._busy -= 1
            idle, self._pool = (self._pool, None) if self._busy == 0 else (None, self._pool)
        if idle is not None:
            idle.shutdown(wait=False)  # its threads end once they see the queue is closed

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the current inner pool down (a later ``submit`` starts a new one)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
