"""Plain helpers every suite shares: the error-body check, test phones, a sent SMS's code.

They work on Django test-client answers and on ``httpx`` answers alike (status, headers,
``content`` and ``json()``), so the in-process tests and the black-box suite of
``tests/service/`` check the contract's error body the same way. Nothing here imports the
project's code. The fixtures that sign users in are in ``tests/conftest.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rest_framework.test import APIClient

ERROR_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


class SentSms(Protocol):
    """What the locmem sender's outbox holds: a phone and a text."""

    phone: str
    text: str


def assert_error(
    response: Any, status: int, code: str | tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The answer is ``status`` with the JSON error body ``{"code", "detail", ...}``; its body.

    ``code`` is the one expected code, a tuple of the acceptable ones, or ``None`` for any
    well-formed code. A ``429`` must also carry its ``Retry-After``.
    """
    text = response.content.decode(errors="replace")
    assert response.status_code == status, f"{response.status_code}: {text}"
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("application/json"), (content_type, text)
    assert "Traceback" not in text
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str), body
    assert ERROR_CODE.fullmatch(body["code"]), body
    assert isinstance(body.get("detail"), str), body
    assert body["detail"].strip(), body
    if isinstance(code, str):
        assert body["code"] == code, body
    elif code is not None:
        assert body["code"] in code, body
    if status == 429:
        assert_retry_after(response)
    return dict(body)


def assert_retry_after(response: Any) -> int:
    """A 429 carries ``Retry-After`` (whole seconds) and the same ``retry_after`` field."""
    header = response.headers.get("Retry-After")
    assert header is not None, dict(response.headers)
    assert header.isdigit(), header
    value = response.json().get("retry_after")
    assert isinstance(value, int), response.content
    assert not isinstance(value, bool)
    assert value >= 1, value
    assert header == str(value), (header, value)
    return value


def code_from_outbox(outbox: Iterable[SentSms], phone: str) -> str:
    """The code of the last SMS sent to ``phone``."""
    for message in reversed(list(outbox)):
        if message.phone == phone:
            match = re.search(r"\b(\d{4,10})\b", message.text)
            assert match, message.text
            return match.group(1)
    raise AssertionError(f"no SMS to {phone}")


def phone_number(n: int) -> str:
    """A valid Russian mobile number, distinct for each ``n``."""
    return f"+7911{n:07d}"


def bearer(access: str) -> APIClient:
    """An API client that sends ``access`` as its bearer token."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client
