"""Atomic rate-limit counters in the cache (Redis in production) and the client address.

Counters are fixed windows. A request *reserves* one unit of every budget it needs in one
atomic step that counts nothing unless every budget still has room: a refused request
consumes no budget, so a client that spent its own budget cannot spend anyone else's by
insisting. A reservation is given back (``refund``) when the thing it paid for did not
happen (the SMS did not go out, the code was right). On Redis the step is one Lua script
(one round trip); other caches (local memory: one process) use a process lock.

The client IP is the socket peer unless ``PHONE_AUTH_TRUSTED_PROXIES`` says how many
``X-Forwarded-For`` hops to believe, and only from peers in
``PHONE_AUTH_TRUSTED_PROXY_NETWORKS``; ``client_key`` groups it as budgets see clients: an
IPv6 /64 is one client, and an IPv4-mapped IPv6 address is its IPv4 address.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.http import HttpRequest

from phone_auth.conf import app_settings
from phone_auth.errors import RateLimitedError, ResendTooSoonError

if TYPE_CHECKING:
    from phone_auth.aio import LoopStore


@dataclass(frozen=True)
class Budget:
    """At most ``limit`` events per ``window`` seconds for one ``key``; ``name`` says which."""

    key: str
    limit: int
    window: int
    name: str = ""
    #: ``False``: the window starts at the first event (one key) instead of the clock's slots.
    slotted: bool = True


@dataclass(frozen=True)
class Reservation:
    """What one successful ``reserve`` counted: the counters and the cooldown it claimed."""

    counters: tuple[str, ...] = ()
    cooldown: str | None = None
    #: Each counter's value after this reservation, in the order of the budgets.
    counts: tuple[int, ...] = ()


class BudgetSpent(Exception):
    """``reserve`` refused: the spent budgets and the seconds until the last one frees up."""

    def __init__(self, budgets: Sequence[Budget], wait: float) -> None:
        super().__init__(", ".join(budget.name or budget.key for budget in budgets))
        self.budgets = tuple(budgets)
        self.wait = wait

    def names(self) -> set[str]:
        """The names of the spent budgets."""
        return {budget.name for budget in self.budgets}


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the socket peer, or what trusted proxies say it is.

    ``X-Forwarded-For`` is believed only from a peer inside
    ``PHONE_AUTH_TRUSTED_PROXY_NETWORKS``, for at most ``PHONE_AUTH_TRUSTED_PROXIES`` hops,
    and each further hop only when the proxy that added it is inside those networks too.
    From anyone else the socket peer is the client, whatever the header says.
    """
    peer_text = str(request.META.get("REMOTE_ADDR") or "")
    peer = _address(peer_text)
    if peer is None:
        return peer_text or "unknown"
    hops = app_settings.TRUSTED_PROXIES
    if hops <= 0:
        return _address_text(peer_text)
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    # The last `hops` entries were appended by our proxies; the one before them is the client
    # as the outermost trusted proxy saw it.
    if len(forwarded) < hops:
        return str(peer)
    networks = app_settings.TRUSTED_PROXY_NETWORKS
    address = peer
    for entry in reversed(forwarded[-hops:]):
        if not any(address in network for network in networks):
            return str(address)
        hop = _address(entry)
        if hop is None:
            return str(peer)
        address = hop
    return str(address)


# Reading an address is a few microseconds of ``ipaddress`` each time, and every budgeted
# request reads its peer's two or three times: the readings below are pure functions of the
# text, so the latest few thousand are kept.
ADDRESS_CACHE = 4096


@lru_cache(maxsize=ADDRESS_CACHE)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` as an address (an IPv4-mapped IPv6 peer as plain IPv4), or ``None``."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=ADDRESS_CACHE)
def _address_text(text: str) -> str:
    """The canonical text of the address ``text`` (which ``_address`` could read)."""
    return str(_address(text))


@lru_cache(maxsize=ADDRESS_CACHE)
def client_key(ip: str) -> str:
    """The client as budgets count it: an IPv6 /64 is one client, ``::ffff:a.b.c.d`` is IPv4.

    Anything that is not an address (``unknown``) stays as it is.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@lru_cache(maxsize=ADDRESS_CACHE)
def is_loopback(ip: str) -> bool:
    """Whether ``ip`` is a loopback address (127.0.0.0/8, ``::1``, ``::ffff:127.x.y.z``)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


# KEYS[1]: the cooldown key, KEYS[2..]: the counters. ARGV[1]: cooldown in ms (0: none),
# ARGV[2]: the service's clock in ms, then per counter its limit and its time to live in
# seconds. The cooldown stores its deadline by the service's clock, which decides (not the
# key's expiry). Returns {-1, counts...} when everything was counted, {0, ms left} when the
# cooldown is held, else the 1-based indexes of the spent counters.
_RESERVE = """
local cooldown = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if cooldown > 0 then
  local left = tonumber(redis.call('GET', KEYS[1]) or '0') - now
  if left > 0 then return {0, left} end
end
local spent = {}
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i - 1]) then
    spent[#spent + 1] = i - 1
  end
end
if #spent > 0 then return spent end
local counts = {-1}
for i = 2, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i]) end
  counts[#counts + 1] = count
end
if cooldown > 0 then redis.call('SET', KEYS[1], now + cooldown, 'PX', cooldown) end
return counts
"""
_REFUND = """
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
return 1
"""
_local_lock = threading.Lock()
_scripts: dict[str, Any] = {}
# One client per connection pool: Django's ``get_client`` builds a new ``Redis`` object (and
# its table of response callbacks) on every call, about a third of a reservation's CPU; and
# under ASGI each request context has a cache backend of its own, all sharing the process's
# pool (``config.redis``). A client is thread-safe: each command borrows a pooled connection.
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def redis_client() -> Any:
    """The raw client of Django's Redis cache, or ``None`` for another cache backend."""
    from django.core.cache.backends.redis import RedisCache

    backend = caches[DEFAULT_CACHE_ALIAS]  # ``cache`` is only a proxy to it
    if not isinstance(backend, RedisCache):
        return None
    redis_cache: Any = backend._cache  # the stubs name only its public methods
    pool = redis_cache._get_connection_pool(True)  # the one ``get_client(write=True)`` uses
    client = _clients.get(pool)
    if client is None:
        client = _clients[pool] = redis_cache._client(connection_pool=pool)
    return client


def _script(client: Any, source: str) -> Any:
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = client.register_script(source)
    return script


def _window(budget: Budget, now: float) -> tuple[str, float]:
    """The counter key of the window ``now`` falls in, and the seconds until it ends."""
    if not budget.slotted:
        return f"rl:{budget.key}:{budget.window}", float(budget.window)
    slot = int(now // budget.window)
    return f"rl:{budget.key}:{budget.window}:{slot}", (slot + 1) * budget.window - now


@dataclass(frozen=True)
class _ReserveCall:
    """One reservation's keys and script arguments, and what reading its outcome needs."""

    budgets: list[Budget]
    windows: list[tuple[str, float]]
    ttls: list[int]
    cooldown_name: str
    cooldown_seconds: int
    now: float

    @property
    def counters(self) -> list[str]:
        return [key for key, _wait in self.windows]

    def script_keys(self, make_key: Callable[[str], str]) -> list[str]:
        """The script's keys as the cache stores them (``make_key``: the cache's own)."""
        return [make_key(self.cooldown_name), *(make_key(key) for key, _wait in self.windows)]

    def script_args(self) -> list[int]:
        return [
            self.cooldown_seconds * 1000,
            int(self.now * 1000),
            *(
                value
                for budget, ttl in zip(self.budgets, self.ttls, strict=True)
                for value in (budget.limit, ttl)
            ),
        ]

    def result(self, outcome: Sequence[int]) -> Reservation:
        """The reservation, or the refusal the script's (or the local step's) outcome says."""
        if outcome[0] == 0:
            raise ResendTooSoonError(outcome[1] / 1000)
        if outcome[0] > 0:
            spent = [self.budgets[index - 1] for index in outcome]
            raise BudgetSpent(spent, max(self.windows[index - 1][1] for index in outcome))
        return Reservation(
            counters=tuple(self.counters),
            cooldown=self.cooldown_name or None,
            counts=tuple(outcome[1:]),
        )


def _reserve_call(
    budgets: Iterable[Budget], cooldown: tuple[str, int] | None, now: float | None
) -> _ReserveCall:
    now = time.time() if now is None else now
    budgets = list(budgets)
    windows = [_window(budget, now) for budget in budgets]
    cooldown_name, cooldown_seconds = (
        (f"cooldown:{cooldown[0]}", cooldown[1]) if cooldown and cooldown[1] > 0 else ("", 0)
    )
    return _ReserveCall(
        budgets=budgets,
        windows=windows,
        ttls=[math.ceil(wait) + 1 for _key, wait in windows],
        cooldown_name=cooldown_name,
        cooldown_seconds=cooldown_seconds,
        now=now,
    )


def reserve(
    budgets: Iterable[Budget],
    *,
    cooldown: tuple[str, int] | None = None,
    now: float | None = None,
) -> Reservation:
    """Count one event against every budget and claim ``cooldown`` (key, seconds), or nothing.

    Raises ``ResendTooSoonError`` while the cooldown is held and ``BudgetSpent`` when any
    budget is spent; either way nothing was counted. Cache outages propagate.
    """
    call = _reserve_call(budgets, cooldown, now)
    client = redis_client()
    if client is not None:
        result = _script(client, _RESERVE)(
            keys=call.script_keys(cache.make_key), args=call.script_args(), client=client
        )
        return call.result([int(value) for value in result])
    return call.result(_reserve_locally(call))


async def areserve(
    store: LoopStore,
    budgets: Iterable[Budget],
    *,
    cooldown: tuple[str, int] | None = None,
    now: float | None = None,
) -> Reservation:
    """``reserve`` on the event loop, through ``store``'s asyncio Redis client."""
    call = _reserve_call(budgets, cooldown, now)
    result = await store.run_script(_RESERVE, call.script_keys(store.make_key), call.script_args())
    return call.result([int(value) for value in result])


def _reserve_locally(call: _ReserveCall) -> list[int]:
    """``_RESERVE`` for a cache of this process only (a process lock makes it atomic)."""
    budgets, counters, ttls, now = call.budgets, call.counters, call.ttls, call.now
    cooldown_name, cooldown_seconds = call.cooldown_name, call.cooldown_seconds
    with _local_lock:
        if cooldown_seconds:
            until = cache.get(cooldown_name)
            if until is not None and float(until) > now:
                return [0, int((float(until) - now) * 1000)]
        counts = cache.get_many(counters)
        spent = [
            index + 1
            for index, (budget, key) in enumerate(zip(budgets, counters, strict=True))
            if int(counts.get(key, 0)) >= budget.limit
        ]
        if spent:
            return spent
        outcome = [-1]
        for key, ttl in zip(counters, ttls, strict=True):
            if cache.add(key, 1, timeout=ttl):
                outcome.append(1)
            else:
                outcome.append(int(cache.incr(key)))
        if cooldown_seconds:
            cache.set(cooldown_name, now + cooldown_seconds, timeout=cooldown_seconds)
        return outcome


def _refund_keys(
    reservation: Reservation, make_key: Callable[[str], str]
) -> tuple[list[str], list[str]]:
    keys = [make_key(reservation.cooldown or ""), *(make_key(key) for key in reservation.counters)]
    return keys, ["1" if reservation.cooldown else "0"]


def refund(reservation: Reservation) -> None:
    """Give back what ``reservation`` counted and release its cooldown."""
    if not reservation.counters and not reservation.cooldown:
        return
    client = redis_client()
    if client is not None:
        keys, args = _refund_keys(reservation, cache.make_key)
        _script(client, _REFUND)(keys=keys, args=args, client=client)
        return
    with _local_lock:
        counts = cache.get_many(list(reservation.counters))
        for key in reservation.counters:
            if int(counts.get(key, 0)) > 0:
                cache.decr(key)
        if reservation.cooldown:
            cache.delete(reservation.cooldown)


async def arefund(store: LoopStore, reservation: Reservation) -> None:
    """``refund`` on the event loop, through ``store``'s asyncio Redis client."""
    if not reservation.counters and not reservation.cooldown:
        return
    keys, args = _refund_keys(reservation, store.make_key)
    await store.run_script(_REFUND, keys, args)


def hit(budgets: Iterable[Budget], now: float | None = None) -> None:
    """Count one event against every budget, or raise ``RateLimitedError`` counting nothing."""
    try:
        reserve(budgets, now=now)
    except BudgetSpent as spent:
        raise RateLimitedError(spent.wait) from None


def is_spent(budgets: Iterable[Budget], now: float | None = None) -> float | None:
    """Seconds to wait if any budget is already spent (without counting), else ``None``."""
    now = time.time() if now is None else now
    windows = [(budget, *_window(budget, now)) for budget in budgets]
    counts = cache.get_many([key for _budget, key, _wait in windows])
    return max(
        (wait for budget, key, wait in windows if int(counts.get(key, 0)) >= budget.limit),
        default=None,
    )


def cooldown_left(key: str, now: float | None = None) -> float:
    """Seconds until the cooldown for ``key`` ends (``0`` when there is none)."""
    name = f"cooldown:{key}"
    client = redis_client()
    now = time.time() if now is None else now
    if client is not None:
        until_ms = client.get(cache.make_key(name))
        return max(0.0, int(until_ms or 0) / 1000 - now) if until_ms else 0.0
    until = cache.get(name)
    if until is None:
        return 0.0
    return max(0.0, float(until) - now)
