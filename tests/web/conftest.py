"""Fixtures of the web UI tests: a browser-like client and signing in through the pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from phone_auth.sms import SmsMessage
from tests.support import code_from_outbox


@pytest.fixture
def web_sign_in(sms_outbox: list[SmsMessage]) -> Callable[..., Client]:
    """A client signed in as ``phone`` through the phone and code pages."""

    def _sign_in(phone: str, client: Client | None = None) -> Client:
        client = client or Client()
        sent = client.post("/", {"phone": phone})
        assert sent.status_code == 302, sent.content
        verified = client.post("/code/", {"code": code_from_outbox(sms_outbox, phone)})
        assert verified.status_code == 302
        assert verified["Location"] == "/profile/"
        cache.clear()  # the next sign-in of a test is not a resend
        return client

    return _sign_in
