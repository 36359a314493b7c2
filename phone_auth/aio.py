"""A send's storage steps on the event loop, for PostgreSQL and a Redis cache.

A send reserves its budgets (one Redis script), stores its code as pending (one ``INSERT``)
before the SMS and activates it (one function call) after. Through Django's synchronous
ORM and cache each step is a hand-off to a thread and a checkout through Django's
connection wrapper; under a burst of sends those hand-offs cost more CPU than the steps
themselves, and the threads compete with the event loop for the GIL. So where the
database is PostgreSQL and the cache is Redis, and the request is served by an ASGI
handler, the steps run on the event loop: psycopg's async pool and one pipelined Redis
connection (``phone_auth.rediswire``), with the same SQL and the same script as the
synchronous path. Anywhere else (SQLite, another cache, a Redis URL with options that
client does not speak, a synchronous caller inside a test transaction) the send keeps the
synchronous path.

The resources belong to one event loop (an ASGI server runs one per process) and are
built on first use from Django's own ``DATABASES`` and ``CACHES`` entries, so the two
paths reach the same database and the same counters.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from asgiref.sync import SyncToAsync
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import DEFAULT_DB_ALIAS, connections

if TYPE_CHECKING:
    from phone_auth.rediswire import PipelinedRedis

#: Connections of a loop's async pool at most: each step holds one for a round trip only.
POOL_MAX = 8
#: A pooled connection idle for longer is checked (one round trip) before it is handed out:
#: after a database restart every idle connection is dead, and a connection in steady use
#: would pay the round trip for nothing.
CHECK_AFTER_IDLE = 1.0
#: Seconds the pool may still take to hand over the connection of a turn that came late.
TURN_GRACE = 0.1


@dataclass
class _Turns:
    """At most ``size`` statements of the loop at once; the others wait for a turn in order.

    psycopg's pool queues a caller it has no connection for with a condition and a
    ``wait_for`` task of its own: under a burst, most statements waited so, and that
    queue cost more than the pool's checkout. Holding callers here until one of the pool's
    connections is free makes the pool's checkout immediate; a caller that waits longer
    than the pool's timeout gets the pool's ``PoolTimeout``.
    """

    size: int
    free: int = field(init=False)
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.free = self.size

    async def take(self, patience: float) -> None:
        """Return once this caller has a turn (``PoolTimeout`` after ``patience`` seconds)."""
        if self.free > 0 and not self.waiting:
            self.free -= 1
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self.waiting.append(waiter)
        timer = loop.call_later(patience, self._time_out, waiter, patience)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.give_back()  # given a turn, but cancelled before it could use it
            raise
        finally:
            timer.cancel()

    def give_back(self) -> None:
        """The turn is over: the next caller still waiting gets it."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1

    @staticmethod
    def _time_out(waiter: asyncio.Future[None], timeout: float) -> None:
        if not waiter.done():
            from psycopg_pool import PoolTimeout

            waiter.set_exception(PoolTimeout(f"couldn't get a connection after {timeout:.2f} sec"))


@dataclass
class LoopStore:
    """The async database pool and Redis client of one event loop."""

    pool: Any  # psycopg_pool.AsyncConnectionPool
    redis: PipelinedRedis
    #: The default cache's ``make_key``: the keys the synchronous path's cache uses. Kept
    #: here because ``django.core.cache.cache`` builds a backend for each request's context.
    make_key: Callable[[str], str]
    turns: _Turns = field(default_factory=lambda: _Turns(size=POOL_MAX))
    _sweeps: set[asyncio.Task[None]] = field(default_factory=set)

    async def run_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run the Lua script ``source`` on the loop's Redis connection; its reply."""
        return await self.redis.run_script(source, keys, args)

    async def fetch_one(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """Run one statement that returns rows (autocommit); its first row, if any."""
        return await self._run(sql, params, rows=True)

    async def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
        """Run one statement that returns no rows (autocommit)."""
        await self._run(sql, params, rows=False)

    async def _run(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any], *, rows: bool
    ) -> tuple[Any, ...] | None:
        """One statement on a pooled connection.

        The connection is taken and given back by hand rather than through the pool's
        ``connection()`` block: in autocommit that block's commit, its statistics and its
        generator-based context manager are work without effect, paid on every statement.
        Each connection runs its statements on one cursor of its own (``LoopConnection``),
        and the caller says whether rows come back (asking the cursor builds its columns).
        """
        from psycopg import OperationalError

        pool = self.pool
        if pool.closed:
            await pool.open(wait=False)  # opened on first use, as Django opens its pool
        try:
            started = time.monotonic()
            await self.turns.take(pool.timeout)
            try:
                # A turn means a connection is free: one taken just in time still gets it.
                left = pool.timeout - (time.monotonic() - started)
                conn = await pool.getconn(max(left, TURN_GRACE))
                try:
                    cursor = conn.statement_cursor()
                    await cursor.execute(sql, params)
                    return await cursor.fetchone() if rows else None
                finally:
                    conn.returned_at = time.monotonic()
                    await pool.putconn(conn)
            finally:
                self.turns.give_back()
        except OperationalError:
            # The connection died under us (a restart): the idle ones likely died with it.
            # (A pool timeout is an ``OperationalError`` too.)
            self._sweep_soon()
            raise

    async def check(self, conn: Any) -> None:
        """The pool's checkout check: only for connections idle a while."""
        if time.monotonic() - conn.returned_at < CHECK_AFTER_IDLE:
            return
        try:
            await self.pool.check_connection(conn)
        except Exception:
            self._sweep_soon()
            raise

    def _sweep_soon(self) -> None:
        if self._sweeps:
            return
        task = asyncio.ensure_future(self.pool.check())
        self._sweeps.add(task)
        task.add_done_callback(self._swept)

    def _swept(self, task: asyncio.Task[None]) -> None:
        self._sweeps.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failed sweep is only a missed shortcut


_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopStore | None] = (
    weakref.WeakKeyDictionary()
)


def loop_store() -> LoopStore | None:
    """This loop's store when the caller may use it, else ``None`` (the synchronous path)."""
    if SyncToAsync.thread_sensitive_context.get(None) is None:
        return None  # not under an ASGI handler: a synchronous caller, maybe in a transaction
    loop = asyncio.get_running_loop()
    try:
        return _stores[loop]
    except KeyError:
        store = _stores[loop] = _build()
        return store


async def close_loop_store() -> None:
    """Close this loop's pool and Redis client, if it has them (before the loop ends)."""
    store = _stores.pop(asyncio.get_running_loop(), None)
    if store is not None:
        await store.pool.close()
        await store.redis.aclose()


def _build() -> LoopStore | None:
    database = _pool_arguments()
    cache = _redis_arguments()
    if database is None or cache is None:
        return None
    try:
        from phone_auth.rediswire import PipelinedRedis
    except ImportError:  # no hiredis: redis-py on the threads reads Redis
        return None

    location, options, make_key = cache
    redis_client = PipelinedRedis.from_url(
        location,
        timeout=options.get("socket_timeout"),
        connect_timeout=options.get("socket_connect_timeout"),
    )
    if redis_client is None:
        return None  # a URL the loop's client does not speak: redis-py on the threads does
    from psycopg_pool import AsyncConnectionPool

    kwargs, pool_options = database
    store = LoopStore(
        pool=None, redis=redis_client, make_key=make_key, turns=_Turns(pool_options["max_size"])
    )
    store.pool = AsyncConnectionPool(
        kwargs=kwargs,
        connection_class=loop_connection_class(),
        open=False,
        # No reset hook: with one, the pool returns every connection through its worker
        # task (a hand-off per statement); ``_run`` notes the time of return itself.
        check=store.check,
        **pool_options,
    )
    return store


@cache
def loop_connection_class() -> type[Any]:
    """psycopg's ``AsyncConnection`` with what ``LoopStore`` keeps per connection.

    A cursor made for each statement costs a third of the statement's CPU: a new cursor
    also means a new adaptation context, which looks up the dumper of every parameter's type
    again. A connection runs one statement at a time, so one cursor serves all of them.
    """
    from psycopg import AsyncConnection, AsyncCursor

    class LoopConnection(AsyncConnection[Any]):
        #: When the pool got this connection back (``0``: never), for its checkout check.
        returned_at: float = 0.0
        _statements: AsyncCursor[Any] | None = None

        def statement_cursor(self) -> AsyncCursor[Any]:
            """This connection's cursor for ``LoopStore``'s statements."""
            cursor = self._statements
            if cursor is None or cursor.closed:
                cursor = self._statements = self.cursor()
            return cursor

    return LoopConnection


def _pool_arguments() -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The async pool's connection and pool arguments, or ``None`` if not PostgreSQL."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return None
    try:
        import psycopg_pool  # noqa: F401 - only to know it is there
    except ImportError:
        return None
    options = connection.settings_dict.get("OPTIONS", {})
    if options.get("assume_role"):
        return None  # the role is set by Django's own connection setup
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)  # Django's synchronous cursor class
    params["autocommit"] = True
    pool = options.get("pool")
    configured = pool if isinstance(pool, dict) else {}
    pool_options: dict[str, Any] = {
        "min_size": 1,
        "max_size": max(1, min(POOL_MAX, int(configured.get("max_size", POOL_MAX)))),
        "timeout": float(configured.get("timeout", 2.0)),
    }
    for name in ("reconnect_timeout", "max_idle", "max_lifetime"):
        if name in configured:
            pool_options[name] = configured[name]
    return params, pool_options


def _redis_arguments() -> tuple[str, dict[str, Any], Callable[[str], str]] | None:
    """The Redis URL, timeouts and key function of the default cache, or ``None``."""
    from django.core.cache.backends.redis import RedisCache

    backend = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return None
    servers: list[str] = backend._servers  # type: ignore[attr-defined]  # the parsed LOCATION
    options = backend._options  # type: ignore[attr-defined]  # the client and pool options
    copied = {
        name: options[name]
        for name in ("socket_connect_timeout", "socket_timeout")
        if name in options
    }
    # Writes go to the first server, as Django's cache does.
    return servers[0], copied, backend.make_key
