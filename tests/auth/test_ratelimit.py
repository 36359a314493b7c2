"""Counters, cooldowns and the client address behind proxies."""

from __future__ import annotations

import threading

import pytest
from django.test import RequestFactory, override_settings

from phone_auth import ratelimit
from phone_auth.errors import RateLimitedError, ResendTooSoonError

NOW = 1_800_000_000.0  # a whole number of hours since the epoch


def request_from(peer: str | None, forwarded: str | None = None):
    meta = {}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    if peer is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = peer
    return request


@pytest.mark.parametrize(
    ("hops", "peer", "forwarded", "client"),
    [
        (0, "10.0.0.1", "192.0.2.1", "10.0.0.1"),
        (0, None, None, "unknown"),
        (1, "10.0.0.1", "192.0.2.1", "192.0.2.1"),
        (1, "10.0.0.1", "6.6.6.6, 192.0.2.1", "192.0.2.1"),
        (1, "10.0.0.1", None, "10.0.0.1"),
        (1, "10.0.0.1", " , ", "10.0.0.1"),
        (1, "10.0.0.1", "not-an-address", "10.0.0.1"),
        (1, "10.0.0.1", "2001:DB8::0001", "2001:db8::1"),
        (2, "10.0.0.2", "192.0.2.1, 10.0.0.1", "192.0.2.1"),
        (2, "10.0.0.2", "6.6.6.6,192.0.2.1,10.0.0.1", "192.0.2.1"),
        (2, "10.0.0.2", "10.0.0.1", "10.0.0.2"),
    ],
)
def test_client_ip(hops, peer, forwarded, client):
    with override_settings(
        PHONE_AUTH_TRUSTED_PROXIES=hops, PHONE_AUTH_TRUSTED_PROXY_NETWORKS=["10.0.0.0/8"]
    ):
        assert ratelimit.client_ip(request_from(peer, forwarded)) == client


def test_a_budget_counts_every_event_in_its_window():
    budget = ratelimit.Budget(key="test", limit=2, window=3600)
    ratelimit.hit([budget], now=NOW)
    ratelimit.hit([budget], now=NOW + 10)

    with pytest.raises(RateLimitedError) as refused:
        ratelimit.hit([budget], now=NOW + 100)

    assert refused.value.extra["retry_after"] == 3500
    ratelimit.hit([budget], now=NOW + 3600)  # the next window starts empty


def test_the_longest_wait_of_several_spent_budgets_is_given():
    hour = ratelimit.Budget(key="a", limit=0, window=3600)
    day = ratelimit.Budget(key="b", limit=0, window=86400)

    with pytest.raises(RateLimitedError) as refused:
        ratelimit.hit([hour, day], now=NOW)

    assert refused.value.extra["retry_after"] == 86400 - NOW % 86400


def test_checking_without_counting():
    budget = ratelimit.Budget(key="quiet", limit=1, window=60)
    assert ratelimit.is_spent([budget], now=NOW) is None

    ratelimit.hit([budget], now=NOW)
    assert ratelimit.is_spent([budget], now=NOW + 10) == 50

    assert ratelimit.is_spent([budget], now=NOW + 20) == 40
    assert ratelimit.is_spent([budget], now=NOW + 60) is None


def test_a_cooldown_is_claimed_once():
    ratelimit.reserve([], cooldown=("k", 60), now=NOW)

    with pytest.raises(ResendTooSoonError) as refused:
        ratelimit.reserve([], cooldown=("k", 60), now=NOW + 15.5)

    assert refused.value.extra["retry_after"] == 45
    assert ratelimit.cooldown_left("k", now=NOW + 15.5) == 44.5


def test_a_passed_cooldown_is_taken_over_by_one_request():
    ratelimit.reserve([], cooldown=("k", 60), now=NOW)

    ratelimit.reserve([], cooldown=("k", 60), now=NOW + 60)  # the service's clock decides
    with pytest.raises(ResendTooSoonError):
        ratelimit.reserve([], cooldown=("k", 60), now=NOW + 61)
    assert ratelimit.cooldown_left("k", now=NOW + 61) == 59


def test_a_refund_gives_back_the_counts_and_the_cooldown():
    budget = ratelimit.Budget(key="back", limit=1, window=3600)
    held = ratelimit.reserve([budget], cooldown=("k", 60), now=NOW)

    ratelimit.refund(held)

    assert ratelimit.cooldown_left("k", now=NOW) == 0
    assert ratelimit.reserve([budget], cooldown=("k", 60), now=NOW).counts == (1,)


def test_no_cooldown_is_never_held():
    ratelimit.reserve([], cooldown=("free", 0), now=NOW)
    ratelimit.reserve([], cooldown=("free", 0), now=NOW)
    assert ratelimit.cooldown_left("free", now=NOW) == 0


def test_a_refused_reservation_counts_nothing():
    """A spent budget refuses the request without counting it in the budgets that had room."""
    own = ratelimit.Budget(key="own", limit=1, window=3600, name="own")
    shared = ratelimit.Budget(key="shared", limit=3, window=3600, name="shared")
    ratelimit.reserve([own, shared], now=NOW)

    for _ in range(10):
        with pytest.raises(ratelimit.BudgetSpent) as refused:
            ratelimit.reserve([own, shared], now=NOW)
        assert refused.value.names() == {"own"}

    assert ratelimit.reserve([shared], now=NOW).counts == (2,)


def test_hit_counts_nothing_when_refused():
    spent = ratelimit.Budget(key="spent", limit=0, window=3600)
    shared = ratelimit.Budget(key="shared-hit", limit=2, window=3600)
    for _ in range(5):
        with pytest.raises(RateLimitedError):
            ratelimit.hit([spent, shared], now=NOW)
    ratelimit.hit([shared], now=NOW)
    ratelimit.hit([shared], now=NOW)


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("9.9.7.7", "9.9.7.7"),
        ("::ffff:9.9.7.7", "9.9.7.7"),
        ("::FFFF:127.0.0.1", "127.0.0.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::1", "::/64"),
        ("unknown", "unknown"),
    ],
)
def test_client_key_groups_an_ipv6_64_and_reads_mapped_ipv4(ip, key):
    assert ratelimit.client_key(ip) == key


@pytest.mark.parametrize(
    ("ip", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("::ffff:127.0.0.9", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        ("unknown", False),
    ],
)
def test_loopback_clients(ip, loopback):
    assert ratelimit.is_loopback(ip) is loopback


def test_on_redis_a_reservation_is_one_script_call(monkeypatch):
    """Check and count in one atomic step on the server, never a read then a write."""
    calls = []
    client = ratelimit.redis_client()
    assert client is not None, "the tests run on Redis"
    real = type(client).evalsha

    def evalsha(self, *args, **kwargs):
        calls.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(client), "evalsha", evalsha)
    ratelimit.reserve([ratelimit.Budget(key="one-step", limit=5, window=60)], now=NOW)
    assert len(calls) == 1


def test_the_redis_client_is_built_once_per_connection_pool():
    """Reservations reuse one client: building one per call cost a third of their CPU.

    A new thread (like each ASGI request context) gets a cache backend of its own, on the
    process's one pool, and still the same client.
    """
    first = ratelimit.redis_client()
    assert first is not None, "the tests run on Redis"
    assert ratelimit.redis_client() is first
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(ratelimit.redis_client()))
    thread.start()
    thread.join()
    assert elsewhere == [first]
