"""One pipelined Redis connection per event loop, for the send's budget scripts.

redis-py's asyncio client spends about as much CPU around a command as the round trip
itself: a pool checkout under a timeout, a retry wrapper, the stream reader's machinery.
Redis answers the commands of one connection in the order they came, so here one
connection carries every command of the loop: each is written as soon as it is asked for
(a burst writes several per turn of the loop), and the replies, parsed by hiredis, resolve
the callers' futures in the same order. A command costs a write, a future and a timer.

It speaks only what the budgets need: ``EVALSHA`` (``EVAL`` when Redis does not know the
script yet), with ``AUTH`` and ``SELECT`` on connecting, over TCP, TLS or a Unix socket as
the cache's URL says. ``from_url`` returns ``None`` for a URL with other options (or without
hiredis): the send then keeps the synchronous path, which reads them through redis-py.

Failures are redis-py's exceptions, so callers tell an outage the same way:

- connecting (and the handshake) takes at most ``connect_timeout``, else ``ConnectionError``;
- a reply that is not in after ``timeout`` is a ``TimeoutError`` (not because the loop was
  too busy to read it), and the connection is dropped: a server that stopped answering fails
  what waits on it at once;
- a server that closes the connection (a restart) is noticed by the loop at once, even while
  idle, and the next command connects again; a command that was on a connection when it
  closed is sent once more on a new one, as redis-py's one retry does.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

import hiredis
from redis.asyncio.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: What ``parse_url`` may find in a URL that this client handles itself.
_SPOKEN = {"host", "port", "db", "username", "password", "path", "connection_class"}


def _pack(command: Sequence[str | int | bytes | None]) -> bytes:
    """``command`` in Redis's wire format."""
    return hiredis.pack_command(tuple(command))  # type: ignore[arg-type]  # typed as a 1-tuple


class _Wire(asyncio.Protocol):
    """One connection: commands written in order, replies matched to their waiters in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                waiter = self.waiting.popleft()
                if not waiter.done():  # its caller was cancelled or timed out: dropped
                    waiter.set_result(reply)
        except (hiredis.ProtocolError, IndexError):  # not Redis, or a reply nobody asked for
            self.drop()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        lost = RedisConnectionError(f"Connection to Redis lost: {exc or 'closed by the server'}")
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(lost)

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        """Write one packed command; the future gets its reply (a ``ReplyError`` too)."""
        assert self.transport is not None
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        self.transport.write(packed)
        return waiter

    def drop(self) -> None:
        """Close at once; whatever still waits fails with ``ConnectionError``."""
        if self.transport is not None:
            self.transport.abort()


class PipelinedRedis:
    """The Redis commands of one event loop, on one connection (see the module)."""

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 6379,
        path: str | None = None,
        tls: bool = False,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.host, self.port, self.path, self.tls = host, port, path, tls
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._handshake: list[tuple[str | int, ...]] = []
        if password is not None:
            self._handshake.append(("AUTH", username, password) if username else ("AUTH", password))
        if db:
            self._handshake.append(("SELECT", db))
        self._wire: _Wire | None = None
        self._connecting: asyncio.Future[_Wire] | None = None
        self._hashes: dict[str, str] = {}

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float | None = None, connect_timeout: float | None = None
    ) -> PipelinedRedis | None:
        """A client for the cache's ``url``, or ``None`` if it needs what this one lacks."""
        try:
            found: dict[str, Any] = dict(parse_url(url))
        except ValueError:
            return None
        if not set(found) <= _SPOKEN:
            return None
        kind = getattr(found.pop("connection_class", None), "__name__", "")
        return cls(
            tls=kind == "SSLConnection",
            timeout=timeout,
            connect_timeout=connect_timeout,
            **found,
        )

    async def run_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run the Lua script ``source`` by its hash, sending it once Redis does not know it."""
        sha = self._hashes.get(source)
        if sha is None:
            # Redis names a script by its SHA-1.
            sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
            self._hashes[source] = sha
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self.execute("EVAL", source, len(keys), *keys, *args)

    async def execute(self, *command: str | int | bytes) -> Any:
        """Send ``command``; its reply (an error reply raises ``ResponseError``)."""
        reply = await self._send(_pack(command))
        if isinstance(reply, hiredis.ReplyError):
            raise ResponseError(str(reply))
        return reply

    async def _send(self, packed: bytes) -> Any:
        """The reply to ``packed``, sent once more on a new connection if its own closed."""
        wire = await self._connected()
        try:
            return await self._reply(wire, wire.send(packed))
        except RedisConnectionError:
            if wire.usable:
                raise
        # The connection closed with the command on it: once more, on a new connection.
        wire = await self._connected()
        return await self._reply(wire, wire.send(packed))

    async def aclose(self) -> None:
        """Close the connection (what waits on it fails with ``ConnectionError``)."""
        if self._connecting is not None:
            self._connecting.cancel()
        if self._wire is not None:
            self._wire.drop()
            self._wire = None

    async def _reply(self, wire: _Wire, waiter: asyncio.Future[Any]) -> Any:
        if self.timeout is None:
            return await waiter
        timer = asyncio.get_running_loop().call_later(self.timeout, self._expire, wire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    @classmethod
    def _expire(cls, wire: _Wire, waiter: asyncio.Future[Any]) -> None:
        # A loop busy for longer than the timeout may not have read a reply that is in
        # already: it fails only if still missing after the loop's next look for input (a
        # callback scheduled from a ``call_soon`` callback runs after that look).
        if not waiter.done():
            loop = asyncio.get_running_loop()
            loop.call_soon(loop.call_soon, cls._give_up, wire, waiter)

    @staticmethod
    def _give_up(wire: _Wire, waiter: asyncio.Future[Any]) -> None:
        if not waiter.done():
            waiter.set_exception(RedisTimeoutError("Timeout reading from Redis"))
            wire.drop()

    async def _connected(self) -> _Wire:
        """The open connection, or a new one (one connect however many callers wait)."""
        wire = self._wire
        if wire is not None and wire.usable:
            return wire
        if self._connecting is None:
            connecting = self._connecting = asyncio.ensure_future(self._connect())
            connecting.add_done_callback(self._connect_done)
        # Shielded: a caller cancelled meanwhile does not cancel the others' connection.
        return await asyncio.shield(self._connecting)

    def _connect_done(self, connecting: asyncio.Future[_Wire]) -> None:
        self._connecting = None
        if not connecting.cancelled() and connecting.exception() is None:
            self._wire = connecting.result()

    async def _connect(self) -> _Wire:
        loop = asyncio.get_running_loop()
        transport: asyncio.Transport | None = None
        try:
            async with asyncio.timeout(self.connect_timeout):
                if self.path is not None:
                    transport, wire = await loop.create_unix_connection(_Wire, self.path)
                else:
                    transport, wire = await loop.create_connection(
                        _Wire,
                        self.host,
                        self.port,
                        ssl=ssl.create_default_context() if self.tls else None,
                    )
                for command in self._handshake:
                    reply = await wire.send(_pack(command))
                    if isinstance(reply, hiredis.ReplyError):
                        raise RedisConnectionError(f"Redis refused {command[0]}: {reply}")
        except (OSError, TimeoutError, RedisConnectionError) as exc:
            if transport is not None:
                transport.abort()
            raise RedisConnectionError(f"Error connecting to Redis: {exc}") from exc
        except BaseException:
            if transport is not None:
                transport.abort()
            raise
        return wire
