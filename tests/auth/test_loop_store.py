"""The event loop's database pool and Redis client (``phone_auth.aio``) as a send uses them.

They reach the same rows and the same counters as the synchronous path, and a connection in
steady use goes straight to work: only one idle for a while pays a check first. Statements
wait for a turn in order, and one that gets none within the pool's timeout is an outage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from psycopg_pool import PoolTimeout

from phone_auth import aio, ratelimit
from phone_auth.errors import is_outage

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


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_gets_no_turn_in_the_pools_time_is_an_outage_fast():
    async def all_turns_held(store: aio.LoopStore) -> tuple[BaseException, float]:
        for _ in range(store.turns.size):
            await store.turns.take(1.0)
        store.pool.timeout = 0.2
        started = time.monotonic()
        with pytest.raises(PoolTimeout) as refused:
            await store.fetch_one("SELECT 1", [])
        took = time.monotonic() - started
        for _ in range(store.turns.size):
            store.turns.give_back()
        assert await store.fetch_one("SELECT 1", []) == (1,)  # the turns are back
        return refused.value, took

    refused, took = on_the_loop(all_turns_held)

    assert is_outage(refused)
    assert took < 1.0


def test_turns_go_in_order_and_a_cancelled_caller_keeps_none():
    async def contended() -> tuple[list[int], int]:
        turns = aio._Turns(size=1)
        order: list[int] = []
        await turns.take(5)

        async def statement(n: int) -> None:
            await turns.take(5)
            order.append(n)
            await asyncio.sleep(0)
            turns.give_back()

        callers = [asyncio.ensure_future(statement(n)) for n in range(4)]
        await asyncio.sleep(0)  # all four wait, in order
        callers[1].cancel()  # gives up while waiting
        turns.give_back()  # caller 0 is given the turn...
        callers[0].cancel()  # ...and cancelled before it could use it: it passes it on
        await asyncio.gather(*callers, return_exceptions=True)
        return order, turns.free

    order, free = asyncio.run(contended())

    assert order == [2, 3]
    assert free == 1  # every turn given back


@pytest.mark.django_db(transaction=True)
def test_a_turn_that_came_at_the_end_of_the_pools_time_still_gets_its_connection(monkeypatch):
    class LateClock:
        """The statement's start is read at once; by every later reading 10 s went by."""

        readings = 0

        def monotonic(self) -> float:
            self.readings += 1
            return time.monotonic() + (0 if self.readings == 1 else 10)

    async def late_turn(store: aio.LoopStore) -> tuple[int, ...] | None:
        await store.fetch_one("SELECT 1", [])  # the pool is open, a connection idle in it
        monkeypatch.setattr(aio, "time", LateClock())
        return await store.fetch_one("SELECT %s", [7])

    assert on_the_loop(late_turn) == (7,)
