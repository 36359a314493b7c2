"""The event loop's pipelined Redis connection (``phone_auth.rediswire``) against a real Redis.

Many commands share one connection and each caller gets its own reply; a connection the
server closes is replaced without failing the next command; a server that accepts but never
answers is a ``TimeoutError`` within the timeout, never a hang; a refused handshake or an
unreachable server is a ``ConnectionError``: the outages the send answers with ``503``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import redis
from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from phone_auth import aio
from phone_auth.errors import is_outage
from phone_auth.rediswire import PipelinedRedis
from tests.live_service import free_port

T = TypeVar("T")

COUNT = "return redis.call('INCR', KEYS[1])"


@pytest.fixture
def redis_url(settings) -> str:
    return str(settings.CACHES["default"]["LOCATION"])


@pytest.fixture
def plain(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url)
    client.delete("wire:count")
    return client


def with_client(
    url: str,
    use: Callable[[PipelinedRedis], Awaitable[T]],
    run: Callable[[Awaitable[T]], T] = asyncio.run,
    **options: float,
) -> T:
    async def main() -> T:
        client = PipelinedRedis.from_url(url, **options)
        assert client is not None
        try:
            return await use(client)
        finally:
            await client.aclose()

    return run(main())


def test_every_caller_on_the_shared_connection_gets_its_own_reply(redis_url, plain):
    async def burst(client: PipelinedRedis) -> list[int]:
        return await asyncio.gather(
            *(client.run_script(COUNT, ["wire:count"], []) for _ in range(300))
        )

    counts = with_client(redis_url, burst)

    assert sorted(counts) == list(range(1, 301))
    assert int(plain.get("wire:count") or 0) == 300


def test_a_caller_cancelled_while_waiting_does_not_shift_the_replies_of_others(redis_url, plain):
    async def cancelled_in_the_middle(client: PipelinedRedis) -> list[int]:
        await client.run_script(COUNT, ["wire:count"], [])  # connected: the next are written
        first = asyncio.ensure_future(client.run_script(COUNT, ["wire:count"], []))
        dropped = asyncio.ensure_future(client.run_script(COUNT, ["wire:count"], []))
        last = asyncio.ensure_future(client.run_script(COUNT, ["wire:count"], []))
        await asyncio.sleep(0)  # all three written
        dropped.cancel()
        return [await first, await last, await client.run_script(COUNT, ["wire:count"], [])]

    # The cancelled caller's script ran (3); its reply is dropped, not given to the next.
    assert with_client(redis_url, cancelled_in_the_middle) == [2, 4, 5]


def test_a_script_redis_forgot_is_sent_again(redis_url, plain):
    async def around_a_flush(client: PipelinedRedis) -> list[int]:
        before = await client.run_script(COUNT, ["wire:count"], [])
        plain.script_flush()
        return [before, await client.run_script(COUNT, ["wire:count"], [])]

    assert with_client(redis_url, around_a_flush) == [1, 2]


def test_an_error_reply_is_a_response_error_and_the_connection_stays(redis_url, plain):
    async def failing_then_fine(client: PipelinedRedis) -> int:
        with pytest.raises(ResponseError):
            await client.run_script("return redis.call('NOSUCHCOMMAND')", [], [])
        return int(await client.run_script(COUNT, ["wire:count"], []))

    assert with_client(redis_url, failing_then_fine) == 1


def test_an_error_reply_to_any_command_is_a_response_error(redis_url, plain):
    """What a reader unpacks is a reply, never an error in its place (``-LOADING``, say)."""

    async def wrong_then_fine(client: PipelinedRedis) -> list[bytes | None]:
        with pytest.raises(ResponseError):
            await client.execute("MGET")  # no key: Redis answers with an error
        return list(await client.execute("MGET", "wire:count", "wire:none"))

    plain.set("wire:count", 7)

    assert with_client(redis_url, wrong_then_fine) == [b"7", None]


def test_a_connection_the_server_closed_is_replaced_before_the_next_command(redis_url, plain):
    async def across_a_kill(client: PipelinedRedis) -> list[int]:
        first = await client.run_script(COUNT, ["wire:count"], [])
        killed = plain.client_kill_filter(_type="normal", skipme=True)
        assert killed >= 1
        await asyncio.sleep(0.05)  # the loop sees the close
        return [first, await client.run_script(COUNT, ["wire:count"], [])]

    assert with_client(redis_url, across_a_kill) == [1, 2]


def test_a_server_that_never_answers_is_a_timeout_and_no_hang():
    async def silent_server() -> tuple[float, BaseException | None]:
        accepted: list[asyncio.StreamWriter] = []

        async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)  # reads nothing, answers nothing

        server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = PipelinedRedis.from_url(f"redis://127.0.0.1:{port}/0", timeout=0.3)
        assert client is not None
        started = time.monotonic()
        try:
            await asyncio.gather(*(client.run_script(COUNT, ["k"], []) for _ in range(5)))
        except Exception as exc:
            failure: BaseException | None = exc
        else:
            failure = None
        took = time.monotonic() - started
        await client.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        return took, failure

    took, failure = asyncio.run(silent_server())

    assert isinstance(failure, RedisTimeoutError | RedisConnectionError)
    assert is_outage(failure)
    assert took < 1.0  # the first reply's timeout, then the retry's, not one per command


def test_a_reply_that_came_while_the_loop_was_busy_is_no_timeout(redis_url, plain):
    """The loop was busy past the timeout, in another socket's callback: the reply came
    meanwhile, and it is taken.

    On uvloop, as the server runs: after its callbacks for input it runs due timers before
    it looks at the sockets again.
    """
    uvloop = pytest.importorskip("uvloop")

    async def busy_loop(client: PipelinedRedis) -> int:
        loop = asyncio.get_running_loop()
        await client.run_script(COUNT, ["wire:count"], [])  # connected
        busy, poke = socket.socketpair()

        def slow_input() -> None:
            loop.remove_reader(busy)
            busy.recv(1)
            time.sleep(0.5)  # the loop does nothing else meanwhile

        poke.send(b"x")
        loop.add_reader(busy, slow_input)
        try:
            return int(await client.run_script(COUNT, ["wire:count"], []))
        finally:
            busy.close()
            poke.close()

    assert with_client(redis_url, busy_loop, uvloop.run, timeout=0.2) == 2


def test_nothing_listening_is_a_connection_error():
    url = f"redis://127.0.0.1:{free_port()}/0"

    async def use(client: PipelinedRedis) -> object:
        return await client.run_script(COUNT, ["k"], [])

    with pytest.raises(RedisConnectionError) as refused:
        with_client(url, use, connect_timeout=1.0)
    assert is_outage(refused.value)


def test_a_refused_handshake_is_a_connection_error(redis_url):
    """This Redis has no password: ``AUTH`` is refused, and that is an outage, not a 500."""
    url = redis_url.replace("redis://", "redis://someone:wrong@", 1)

    async def use(client: PipelinedRedis) -> object:
        return await client.run_script(COUNT, ["k"], [])

    with pytest.raises(RedisConnectionError):
        with_client(url, use, connect_timeout=1.0)


@pytest.mark.django_db
def test_a_redis_url_with_options_it_does_not_speak_keeps_the_synchronous_path(settings):
    location = str(settings.CACHES["default"]["LOCATION"])
    assert PipelinedRedis.from_url(f"{location}?health_check_interval=5") is None
    caches = {"default": {**settings.CACHES["default"], "LOCATION": f"{location}?client_name=x"}}

    async def store() -> aio.LoopStore | None:
        SyncToAsync.thread_sensitive_context.set(ThreadSensitiveContext())
        try:
            return aio.loop_store()
        finally:
            await aio.close_loop_store()

    with override_settings(CACHES=caches):
        assert asyncio.run(store()) is None
    assert asyncio.run(store()) is not None
