"""Django's ASGI handler with a fixed number of threads for the synchronous parts.

Stock Django opens a ``ThreadSensitiveContext`` per request, and asgiref starts one thread
for each context that runs synchronous code (the ``request_started``/``request_finished``
receivers alone do), so a burst of slow requests means a thread per request in flight:
hundreds of threads and their memory, kept until each request ends. Here every request
takes one of ``threads`` shared contexts in turn instead (a context's thread ends once no
request has used it for ``IDLE_SECONDS``: steady traffic keeps its threads, a burst's
extra threads go away after it). The guarantee Django relies on still holds: all the
synchronous code of one request runs on one thread (its context's), and one thread runs one piece of
synchronous code at a time, so requests sharing a thread never interleave inside a
transaction (no transaction spans an ``await``). A request's connection may be closed by
another's ``request_finished`` between two of its own synchronous steps; with
``CONN_MAX_AGE = 0`` and the pool the next step borrows another.
"""

from __future__ import annotations

import asyncio
from itertools import cycle
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

#: A context's thread ends after this long without a request; starting a thread per request
#: of a steady trickle cost more than the request's own synchronous work.
IDLE_SECONDS = 2.0


class BoundedThreadsASGIHandler(ASGIHandler):
    """``ASGIHandler`` whose requests share ``threads`` thread-sensitive contexts."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        if threads < 1:
            raise ValueError("threads must be at least 1")
        # Held here for the process's life: asgiref keys each context's executor weakly.
        self.contexts = [ThreadSensitiveContext() for _ in range(threads)]
        self._next = cycle(self.contexts)
        self._in_flight = dict.fromkeys(self.contexts, 0)
        self._idle_since: dict[ThreadSensitiveContext, float] = {}
        self._reaper: asyncio.TimerHandle | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one HTTP request on the next shared context."""
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        context = next(self._next)
        self._in_flight[context] += 1  # one event loop per process: no lock needed
        token = SyncToAsync.thread_sensitive_context.set(context)
        try:
            await self.handle(scope, receive, send)
        finally:
            SyncToAsync.thread_sensitive_context.reset(token)
            self._in_flight[context] -= 1
            if not self._in_flight[context]:
                self._idle_since[context] = asyncio.get_running_loop().time()
                if self._reaper is None:
                    self._reaper = asyncio.get_running_loop().call_later(
                        IDLE_SECONDS, self._end_idle_threads
                    )

    def _end_idle_threads(self) -> None:
        """End the threads of contexts idle for ``IDLE_SECONDS``; look again while any is left."""
        self._reaper = None
        now = asyncio.get_running_loop().time()
        for context, since in list(self._idle_since.items()):
            if self._in_flight[context]:
                del self._idle_since[context]  # busy again: it goes idle again later
            elif now - since >= IDLE_SECONDS:
                del self._idle_since[context]
                executor = SyncToAsync.context_to_thread_executor.pop(context, None)
                if executor is not None:
                    executor.shutdown(wait=False)  # its thread ends once it sees the queue closed
        if self._idle_since:
            self._reaper = asyncio.get_running_loop().call_later(
                IDLE_SECONDS, self._end_idle_threads
            )
