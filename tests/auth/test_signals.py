"""The sign-in flows send their signals after commit: code_sent, user_signed_up, user_signed_in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal

from phone_auth import signals
from phone_auth.sms import BaseSmsBackend, SmsMessage, SmsSendError
from tests.auth.support import send_code, verify_code
from tests.support import code_from_outbox

pytestmark = pytest.mark.django_db

PHONE = "+79110000000"


class RefusingSmsBackend(BaseSmsBackend):
    """A provider that refuses every message."""

    async def send(self, message: SmsMessage) -> None:
        raise SmsSendError("refused")


@pytest.fixture
def received() -> Iterator[Callable[[Signal], list[dict[str, Any]]]]:
    """``received(signal)``: the keyword arguments of every call of ``signal`` from now on."""
    connected: list[tuple[Signal, Callable[..., None]]] = []

    def listen(signal: Signal) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = []

        def receiver(**kwargs: Any) -> None:
            calls.append(kwargs)

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return calls

    yield listen
    for signal, receiver in connected:
        signal.disconnect(receiver)


def test_code_sent_after_the_sender_accepted(api_client, received, settings):
    sent = received(signals.code_sent)
    assert send_code(api_client, PHONE).status_code == 200
    assert [call["phone"] for call in sent] == [PHONE]

    settings.PHONE_AUTH_SMS_BACKEND = f"{__name__}.RefusingSmsBackend"
    assert send_code(api_client, "+79110000001").status_code == 503
    assert len(sent) == 1


def test_first_and_later_sign_ins(
    api_client, sms_outbox, received, django_capture_on_commit_callbacks, settings
):
    settings.PHONE_AUTH_RESEND_COOLDOWN = 0
    signed_up, signed_in, logged_in = (
        received(signals.user_signed_up),
        received(signals.user_signed_in),
        received(user_logged_in),
    )
    for _round in range(2):
        assert send_code(api_client, PHONE).status_code == 200
        code = code_from_outbox(sms_outbox, PHONE)
        with django_capture_on_commit_callbacks(execute=True):
            assert verify_code(api_client, PHONE, code).status_code == 200

    user = get_user_model().objects.get()
    assert [(call["user"], call["phone"]) for call in signed_up] == [(user, PHONE)]
    assert [(call["user"], call["is_new_user"]) for call in signed_in] == [
        (user, True),
        (user, False),
    ]
    assert all(call["request"] is not None for call in signed_in)
    assert [call["user"] for call in logged_in] == [user, user]
    user.refresh_from_db()
    assert user.last_login is not None


def test_no_signal_for_a_wrong_code(
    api_client, sms_outbox, received, django_capture_on_commit_callbacks
):
    signed_in = received(signals.user_signed_in)
    send_code(api_client, PHONE)
    code = code_from_outbox(sms_outbox, PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        assert verify_code(api_client, PHONE, f"{(int(code) + 1) % 10000:04d}").status_code == 400
    assert signed_in == []
