"""Fixtures of the host-project scenarios: signing in through the API and its console SMS.

These run inside a host project's own process (``tests/hosts/test_hosts.py`` starts
them with that project's settings), so nothing here may import the standalone
service's ``config`` or the outer suite's fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from support import SEND_CODE, VERIFY_CODE, SignIn


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def printed_code(capsys: pytest.CaptureFixture[str]) -> Callable[[str], str]:
    """The code of the last SMS the console sender printed for ``phone``."""

    def _code(phone: str) -> str:
        out = capsys.readouterr().out
        lines = [line for line in out.splitlines() if line.startswith(f"SMS to {phone}: ")]
        assert lines, f"the console sender printed no SMS to {phone}; stdout was {out!r}"
        match = re.search(r"\b(\d{4,10})\b", lines[-1].partition(": ")[2])
        assert match, lines[-1]
        return match.group(1)

    return _code


@pytest.fixture
def sign_in(printed_code: Callable[[str], str]) -> SignIn:
    """Sign ``phone`` in through the API, reading the code the console sender printed."""

    def _sign_in(phone: str) -> dict[str, Any]:
        client = APIClient()
        sent = client.post(SEND_CODE, {"phone": phone}, format="json")
        assert sent.status_code == 200, sent.content
        code = printed_code(sent.json()["phone"])
        verified = client.post(VERIFY_CODE, {"phone": phone, "code": code}, format="json")
        assert verified.status_code == 200, verified.content
        cache.clear()  # the next sign-in of a test is not a resend from the same address
        return dict(verified.json())

    return _sign_in
