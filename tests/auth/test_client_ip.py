"""``X-Forwarded-For`` is believed only from peers inside ``TRUSTED_PROXY_NETWORKS``."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from phone_auth.conf import app_settings
from phone_auth.ratelimit import client_ip


def request_from(peer: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@override_settings(PHONE_AUTH_TRUSTED_PROXIES=1)
def test_a_client_that_reaches_the_service_directly_cannot_pick_its_address():
    # The default networks are this host only: a peer elsewhere is the client itself.
    assert client_ip(request_from("203.0.113.7", "192.0.2.1")) == "203.0.113.7"


@override_settings(PHONE_AUTH_TRUSTED_PROXIES=1)
def test_a_proxy_on_the_same_host_is_trusted_by_default():
    assert client_ip(request_from("127.0.0.1", "192.0.2.1")) == "192.0.2.1"
    assert client_ip(request_from("::1", "2001:db8::1")) == "2001:db8::1"
    assert client_ip(request_from("::ffff:127.0.0.1", "192.0.2.1")) == "192.0.2.1"


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # Fewer hops than the proxies would have added: not through them, the peer counts.
        ("10.1.2.3", "192.0.2.1", "10.1.2.3"),
        ("10.1.2.3", "192.0.2.1, 10.9.9.9", "192.0.2.1"),
        # The inner proxy is trusted, the hop it reports is not: that hop is the client.
        ("10.1.2.3", "192.0.2.1, 198.51.100.5", "198.51.100.5"),
        # Not a proxy of ours at all: the header is ignored.
        ("198.51.100.5", "192.0.2.1, 10.9.9.9", "198.51.100.5"),
    ],
)
@override_settings(PHONE_AUTH_TRUSTED_PROXIES=2, PHONE_AUTH_TRUSTED_PROXY_NETWORKS="10.0.0.0/8")
def test_every_trusted_hop_must_come_from_a_trusted_network(peer, forwarded, client):
    assert client_ip(request_from(peer, forwarded)) == client


@override_settings(PHONE_AUTH_TRUSTED_PROXY_NETWORKS=["10.0.0.0/8", " fd00::/8 "])
def test_networks_are_read_from_a_list_or_a_comma_separated_string():
    assert [str(n) for n in app_settings.TRUSTED_PROXY_NETWORKS] == ["10.0.0.0/8", "fd00::/8"]
