"""The event loop's database pool and Redis client (``phone_auth.aio``) as a send uses them.

They reach the same rows and the same counters as the synchronous path, and a connection in
steady use goes straight to work: only one idle for a while pays a check first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext

from phone_auth import aio, ratelimit

T = TypeVar("T")


def on_the_loop(make: Callable[[aio.LoopStore], Awaitable[T]]) -> T:
    """Run ``make(store)`` as the ASGI handler runs a request, then close the store."""

    async def main() -> T:
        SyncToAsync.thread_sensitive_context.set(ThreadSensitiveContext())
        store = aio.loop_store()
        assert store is not None
        try:
            return await make(store)
        finally:
            await aio.close_loop_store()

    return asyncio.run(main())


@pytest.mark.django_db(transaction=True)
def test_a_connection_in_steady_use_is_not_checked_and_an_idle_one_is(monkeypatch):
    checked: list[int] = []

    async def statements(store: aio.LoopStore) -> tuple[list[int], list[int]]:
        real_check = store.pool.check_connection

        async def counted(conn: Any) -> None:
            checked.append(id(conn))
            await real_check(conn)

        monkeypatch.setattr(store.pool, "check_connection", counted)
        for n in range(6):
            assert await store.fetch_one("SELECT %s", [n]) == (n,)
        steady = list(checked)
        monkeypatch.setattr(aio, "CHECK_AFTER_IDLE", 0.0)  # now every connection "was idle"
        await store.fetch_one("SELECT 1", [])
        return steady, checked[len(steady) :]

    steady, after_idle = on_the_loop(statements)

    # Each connection is checked at its first use only (the pool may have opened a second).
    assert 1 <= len(steady) == len(set(steady)) <= 2
    assert len(after_idle) == 1
    assert after_idle[0] in steady  # a connection that was in use, checked again


@pytest.mark.django_db(transaction=True)
def test_the_loop_counts_under_the_keys_of_the_cache(settings):
    """With a key prefix and version, the loop's cooldown is the one the cache path reads."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": "host-project", "VERSION": 3}
    }
    budget = ratelimit.Budget(key="prefixed", limit=5, window=60, name="test")

    async def reserve(store: aio.LoopStore) -> ratelimit.Reservation:
        return await ratelimit.areserve(store, [budget], cooldown=("prefixed-phone", 30))

    reservation = on_the_loop(reserve)

    assert reservation.counts == (1,)
    assert 29 < ratelimit.cooldown_left("prefixed-phone") <= 30
    assert ratelimit.reserve([budget]).counts == (2,)
    on_the_loop(lambda store: ratelimit.arefund(store, reservation))
    assert ratelimit.cooldown_left("prefixed-phone") == 0
    assert ratelimit.reserve([budget]).counts == (2,)  # the loop's unit was given back
