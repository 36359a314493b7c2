"""A provider's refusal is logged for operators, but never with the code it was asked to send."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from phone_auth.sms.smsaero import SmsAeroSmsBackend
from tests.sms.conftest import OPTIONS

pytestmark = pytest.mark.django_db

PHONE = "+79110000001"


@pytest.fixture
def service_log() -> Iterator[list[str]]:
    """Lines the sign-in services log (their logger does not propagate to the root)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep()
    logger = logging.getLogger("phone_auth")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_a_refusal_that_quotes_the_message_does_not_log_the_code(
    settings, monkeypatch, api_client, service_log
) -> None:
    settings.PHONE_AUTH_SMS_BACKEND = "smsaero"
    settings.PHONE_AUTH_SMS_OPTIONS = OPTIONS
    settings.PHONE_AUTH_EXPOSE_CODES = True
    sent_texts: list[str] = []

    def refuse_quoting_the_text(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["text"]
        sent_texts.append(text)
        return httpx.Response(200, json={"success": False, "message": f"Rejected text: {text}"})

    monkeypatch.setattr(
        SmsAeroSmsBackend, "transport", httpx.MockTransport(refuse_quoting_the_text)
    )

    response = api_client.post("/api/v1/auth/send-code/", {"phone": PHONE}, format="json")

    assert response.status_code == 503
    [text] = sent_texts
    code = "".join(ch for ch in text if ch.isdigit())
    assert len(code) == 4
    assert service_log, "the refusal is logged"
    assert all(code not in line for line in service_log), service_log
    assert any("Rejected text" in line for line in service_log), service_log
