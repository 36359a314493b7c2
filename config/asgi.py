"""ASGI entry point: the run command and production serve this through uvicorn.

In front of Django sit two small layers that need neither the database nor the cache:

- ``GET /livez`` is answered at once (liveness: the process serves requests);
- a per-process limit on requests in flight: past ``MAX_CONCURRENT_REQUESTS`` a request is
  answered at once with ``503 service_unavailable`` and ``Retry-After`` instead of queueing;
- at most ``STARTS_PER_TURN`` admitted requests start per turn of the event loop, the rest
  wait their turn in order. A burst of a thousand requests would otherwise all start in one
  turn, and everything else on the loop (``/livez``, the answers of requests already in
  flight) would wait behind all of them: the turns stay short, a probe is answered in one.
  Behind it, the synchronous parts of all requests share ``REQUEST_THREADS`` threads
  (``config/handler.py``), so neither a burst nor slow requests grow a worker's threads.

Static files (the web UI's stylesheet, Swagger UI and ReDoc bundles) are served by
Django's ASGI static handler so the service works offline with one process and no
sync-only middleware in the chain (which would pin async views to a thread).
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections import deque
from typing import Any

import django
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402  (after Django is set up)
from django.utils import translation  # noqa: E402
from django.utils.translation import trans_real  # noqa: E402

from config.errors import OVERLOAD_RETRY_AFTER, unavailable_content  # noqa: E402
from config.handler import BoundedThreadsASGIHandler  # noqa: E402
from phone_auth.health import LIVEZ_BODY  # noqa: E402

Scope = dict[str, Any]
Receive = Any
Send = Any

# The edge's own 503 page loads nothing.
EDGE_PAGE_CSP = b"default-src 'none'; frame-ancestors 'none'"


def _language(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            for code, _quality in trans_real.parse_accept_lang_header(value.decode("latin-1")):
                try:
                    return trans_real.get_supported_language_variant(code)
                except LookupError:
                    continue
    return str(settings.LANGUAGE_CODE)


async def _answer(send: Send, status: int, content_type: str, body: bytes, **headers: str) -> None:
    raw = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *(
            [(b"content-security-policy", EDGE_PAGE_CSP)]
            if content_type.startswith("text/html")
            else []
        ),
        *(
            (name.replace("_", "-").lower().encode(), value.encode())
            for name, value in headers.items()
        ),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


#: Admitted requests that may start in one turn of the event loop.
STARTS_PER_TURN = 16


class ServiceEdge:
    """``/livez`` first, then at most ``limit`` requests in flight in this process."""

    def __init__(self, app: Any, limit: int, starts_per_turn: int = STARTS_PER_TURN) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self.starts_per_turn = starts_per_turn
        self._started = 0  # in this turn of the loop
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turn_ends: asyncio.Handle | None = None
        self._bodies: dict[tuple[str, bool], tuple[str, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection event (only HTTP requests are counted)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/livez" and scope["method"] in ("GET", "HEAD"):
            await _answer(send, 200, "application/json", LIVEZ_BODY)
            return
        if self.in_flight >= self.limit:
            content_type, body = self._unavailable(scope)
            await _answer(send, 503, content_type, body, retry_after=str(OVERLOAD_RETRY_AFTER))
            return
        self.in_flight += 1  # one event loop per process: no lock needed
        try:
            await self._start_turn()
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _start_turn(self) -> None:
        """Return at once while this turn has starts left, else when a later turn has."""
        if self._started < self.starts_per_turn and not self._waiting:
            self._count_start()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._next_turn()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _count_start(self) -> None:
        self._started += 1
        self._next_turn()

    def _next_turn(self) -> None:
        if self._turn_ends is None:
            # A callback scheduled now runs in the loop's next turn.
            self._turn_ends = asyncio.get_running_loop().call_soon(self._new_turn)

    def _new_turn(self) -> None:
        """A new turn: let the next waiting requests start."""
        self._turn_ends = None
        self._started = 0
        while self._waiting and self._started < self.starts_per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._count_start()
        if self._waiting:
            self._next_turn()

    def _unavailable(self, scope: Scope) -> tuple[str, bytes]:
        from config.middleware import is_api_path

        language = _language(scope)
        key = (language, is_api_path(scope["path"]))
        if key not in self._bodies:
            with translation.override(language):
                self._bodies[key] = unavailable_content(scope["path"], OVERLOAD_RETRY_AFTER)
        return self._bodies[key]


django_application = BoundedThreadsASGIHandler(threads=settings.REQUEST_THREADS)
application = ServiceEdge(
    ASGIStaticFilesHandler(django_application), limit=settings.MAX_CONCURRENT_REQUESTS
)

# What is loaded by now (Django, the apps, their modules: about 100,000 objects) lives as
# long as the process. Left to the collector, every full collection walks all of it, about
# 50 ms during which the loop answers nothing (a burst's allocations set one off): frozen,
# a collection walks only what requests allocate.
gc.freeze()
