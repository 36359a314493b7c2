"""The ASGI handler's shared thread contexts: a context's thread outlives a request briefly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import SyncToAsync

from config import handler
from config.handler import BoundedThreadsASGIHandler


async def get(app: BoundedThreadsASGIHandler, path: str) -> int:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client stays connected until the answer
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def test_a_contexts_thread_stays_for_the_next_request_and_ends_when_idle(monkeypatch) -> None:
    monkeypatch.setattr(handler, "IDLE_SECONDS", 0.3)

    async def scenario() -> None:
        app = BoundedThreadsASGIHandler(threads=1)
        (context,) = app.contexts
        assert await get(app, "/api/v1/no-such-route/") == 404
        executor = SyncToAsync.context_to_thread_executor.get(context)
        assert executor is not None, "the request ran no synchronous code on its context"
        await asyncio.sleep(0.1)
        assert await get(app, "/api/v1/no-such-route/") == 404
        # The second request found the first one's thread still there.
        assert SyncToAsync.context_to_thread_executor.get(context) is executor
        await asyncio.sleep(0.8)
        assert context not in SyncToAsync.context_to_thread_executor

    asyncio.run(scenario())


@pytest.mark.parametrize("threads", [0, -1])
def test_a_handler_needs_a_thread(threads: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedThreadsASGIHandler(threads=threads)
