"""Atomic rate-limit counters in the cache (Redis in production) and the client IP.

Counters are fixed windows built from ``cache.add`` + ``cache.incr`` (both atomic on
Redis), never DRF's read-then-write throttles, so parallel requests cannot slip past a
budget. The client IP is the socket peer unless ``TRUSTED_PROXIES`` says how many
``X-Forwarded-For`` hops to believe, and only from peers in ``TRUSTED_PROXY_NETWORKS``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

from phone_auth.conf import app_settings
from phone_auth.errors import RateLimitedError, ResendTooSoonError


@dataclass(frozen=True)
class Budget:
    """At most ``limit`` events per ``window`` seconds for one ``key``."""

    key: str
    limit: int
    window: int


def client_ip(request: HttpRequest) -> str:
    """The caller's address: the socket peer, or what trusted proxies say it is.

    ``X-Forwarded-For`` is believed only from a peer inside ``TRUSTED_PROXY_NETWORKS``, for
    at most ``TRUSTED_PROXIES`` hops, and each further hop only when the proxy that added it
    is inside those networks too. From anyone else the socket peer is the client, whatever
    the header says.
    """
    peer = _address(str(request.META.get("REMOTE_ADDR") or ""))
    if peer is None:
        return str(request.META.get("REMOTE_ADDR") or "unknown")
    hops = app_settings.TRUSTED_PROXIES
    if hops <= 0:
        return str(peer)
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


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` as an address (an IPv4-mapped IPv6 peer as plain IPv4), or ``None``."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _incr(key: str, window: int) -> int:
    for _ in range(3):
        cache.add(key, 0, timeout=window)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            continue
    return 1


def _window(budget: Budget, now: float) -> tuple[str, float]:
    """The counter key of the window ``now`` falls in, and the seconds until it ends."""
    slot = int(now // budget.window)
    return f"rl:{budget.key}:{budget.window}:{slot}", (slot + 1) * budget.window - now


def hit(budgets: Iterable[Budget], now: float | None = None) -> None:
    """Count one event against every budget; raise ``RateLimitedError`` if any is spent."""
    now = time.time() if now is None else now
    waits = []
    for budget in budgets:
        key, wait = _window(budget, now)
        if _incr(key, budget.window) > budget.limit:
            waits.append(wait)
    if waits:
        raise RateLimitedError(max(waits))


def is_spent(budgets: Iterable[Budget], now: float | None = None) -> float | None:
    """Seconds to wait if any budget is already spent (without counting), else ``None``."""
    now = time.time() if now is None else now
    windows = [(budget, *_window(budget, now)) for budget in budgets]
    counts = cache.get_many([key for _budget, key, _wait in windows])
    return max(
        (wait for budget, key, wait in windows if int(counts.get(key, 0)) >= budget.limit),
        default=None,
    )


def start_cooldown(key: str, seconds: int, now: float | None = None) -> None:
    """Claim the cooldown for ``key`` or raise ``ResendTooSoonError`` with the time left.

    The stored deadline decides, not the cache's own expiry: once the service's clock has
    passed it, exactly one request (an atomic ``add`` keyed by that deadline) takes over.
    """
    if seconds <= 0:
        return
    now = time.time() if now is None else now
    name = f"cooldown:{key}"
    for _ in range(3):
        if cache.add(name, now + seconds, timeout=seconds):
            return
        until = cache.get(name)
        if until is None:  # expired between add and get
            continue
        if float(until) > now:
            raise ResendTooSoonError(float(until) - now)
        if cache.add(f"{name}:after:{until}", 1, timeout=seconds):
            cache.set(name, now + seconds, timeout=seconds)
            return
        break
    raise ResendTooSoonError(1.0)


def cooldown_left(key: str, now: float | None = None) -> float:
    """Seconds until the cooldown for ``key`` ends (``0`` when there is none)."""
    until = cache.get(f"cooldown:{key}")
    if until is None:
        return 0.0
    now = time.time() if now is None else now
    return max(0.0, float(until) - now)


def clear_cooldown(key: str) -> None:
    """Release a cooldown (the SMS was not sent, so the person may try again)."""
    cache.delete(f"cooldown:{key}")
