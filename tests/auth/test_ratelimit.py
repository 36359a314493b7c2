"""Counters, cooldowns and the client address behind proxies."""

from __future__ import annotations

import pytest
from django.core.cache import cache
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
    ratelimit.start_cooldown("k", 60, now=NOW)

    with pytest.raises(ResendTooSoonError) as refused:
        ratelimit.start_cooldown("k", 60, now=NOW + 15.5)

    assert refused.value.extra["retry_after"] == 45
    assert ratelimit.cooldown_left("k", now=NOW + 15.5) == 44.5


def test_a_passed_cooldown_is_taken_over_by_one_request():
    ratelimit.start_cooldown("k", 60, now=NOW)

    ratelimit.start_cooldown("k", 60, now=NOW + 60)  # the service's clock decides
    with pytest.raises(ResendTooSoonError):
        ratelimit.start_cooldown("k", 60, now=NOW + 61)
    assert ratelimit.cooldown_left("k", now=NOW + 61) == 59


def test_a_passed_cooldown_that_another_request_took_over_is_not_taken_twice():
    ratelimit.start_cooldown("k", 60, now=NOW)
    # Another request has claimed the passed deadline but not yet written its own.
    cache.add(f"cooldown:k:after:{NOW + 60}", 1)

    with pytest.raises(ResendTooSoonError) as refused:
        ratelimit.start_cooldown("k", 60, now=NOW + 60)

    assert refused.value.extra["retry_after"] == 1


def test_a_cleared_cooldown_and_no_cooldown():
    ratelimit.start_cooldown("k", 60, now=NOW)
    ratelimit.clear_cooldown("k")

    assert ratelimit.cooldown_left("k", now=NOW) == 0
    ratelimit.start_cooldown("k", 60, now=NOW)
    ratelimit.start_cooldown("free", 0, now=NOW)
    ratelimit.start_cooldown("free", 0, now=NOW)
    assert ratelimit.cooldown_left("free", now=NOW) == 0
