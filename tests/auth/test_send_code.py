"""POST /api/v1/auth/send-code/: normalisation, storage, cooldown, budgets, failures."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from phone_auth.api import SendCodeApi
from phone_auth.models import PhoneAccount, SignInCode
from phone_auth.sms import BaseSmsBackend, SmsMessage, SmsSendError
from tests.auth.support import SEND_CODE, send_code, verify_code
from tests.support import assert_error, assert_retry_after, code_from_outbox

pytestmark = pytest.mark.django_db

PHONE = "+79110000000"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NO_COOLDOWN = {"PHONE_AUTH_RESEND_COOLDOWN": 0}

failed_messages: list[SmsMessage] = []


class FailingSmsBackend(BaseSmsBackend):
    """A provider that refuses every message with a detail that must not reach clients."""

    async def send(self, message: SmsMessage) -> None:
        failed_messages.append(message)
        raise SmsSendError("provider said 401: account AC123 token=secret-provider-token")


class CrashingSmsBackend(BaseSmsBackend):
    """A sender with a bug of its own."""

    async def send(self, message: SmsMessage) -> None:
        failed_messages.append(message)
        raise RuntimeError("socket exploded at provider-host.internal")


@pytest.fixture(autouse=True)
def _clear_failed() -> None:
    failed_messages.clear()


@pytest.mark.parametrize(
    "typed",
    [
        "+7 (911) 000-00-00",
        "+79110000000",
        "79110000000",
        "89110000000",
        "9110000000",
        "8 (911) 000-00-00",
        "  +7 911 000 00 00  ",
        "+7.911.000.00.00",
    ],
)
def test_every_usual_form_is_one_e164_phone(api_client, sms_outbox, typed):
    response = send_code(api_client, typed)

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == PHONE
    assert [message.phone for message in sms_outbox] == [PHONE]
    assert str(SignInCode.objects.get().phone) == PHONE


def test_a_foreign_number_keeps_its_country(api_client):
    response = send_code(api_client, "+1 202 555 0143")

    assert response.json()["phone"] == "+12025550143"


def test_answer_fields(api_client, sms_outbox):
    response = send_code(api_client, PHONE)

    assert response.status_code == 200
    assert response.json() == {
        "phone": PHONE,
        "expires_in": 300,
        "retry_after": 60,
        "code_length": 4,
    }
    assert len(sms_outbox) == 1
    assert code_from_outbox(sms_outbox, PHONE).isdigit()
    assert len(code_from_outbox(sms_outbox, PHONE)) == 4


@override_settings(PHONE_AUTH_CODE_TTL=120, PHONE_AUTH_RESEND_COOLDOWN=30, PHONE_AUTH_CODE_LENGTH=6)
def test_answer_follows_the_settings(api_client, sms_outbox):
    response = send_code(api_client, PHONE)

    assert response.json() == {
        "phone": PHONE,
        "expires_in": 120,
        "retry_after": 30,
        "code_length": 6,
    }
    assert len(code_from_outbox(sms_outbox, PHONE)) == 6


def test_no_user_is_created(api_client):
    send_code(api_client, PHONE)

    assert get_user_model().objects.count() == 0
    assert PhoneAccount.objects.count() == 0


def test_code_is_stored_only_as_its_keyed_hash(api_client, sms_outbox):
    send_code(api_client, PHONE)
    code = code_from_outbox(sms_outbox, PHONE)
    row = SignInCode.objects.get()

    stored = [str(getattr(row, field.attname)) for field in SignInCode._meta.concrete_fields]
    assert not any(code in value for value in stored if value != row.code_hash)
    assert row.code_hash == code_hash_of(PHONE, code)
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()
    assert row.code_hash != hashlib.sha256(f"{PHONE}:{code}".encode()).hexdigest()


def code_hash_of(phone: str, code: str) -> str:
    key = settings.PHONE_AUTH_CODE_HMAC_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def test_a_new_code_replaces_the_earlier_one(api_client, time_machine):
    time_machine.move_to(START, tick=False)
    send_code(api_client, PHONE)
    time_machine.shift(61)
    send_code(api_client, PHONE)

    statuses = list(SignInCode.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [SignInCode.Status.SUPERSEDED, SignInCode.Status.ACTIVE]


def test_debug_code_is_absent_by_default(api_client):
    response = send_code(api_client, PHONE)

    assert "debug_code" not in response.json()


@override_settings(PHONE_AUTH_EXPOSE_CODES=True)
def test_demo_mode_answers_with_the_code(api_client, sms_outbox):
    response = send_code(api_client, PHONE)

    assert response.json()["debug_code"] == code_from_outbox(sms_outbox, PHONE)


# --- Resend cooldown -------------------------------------------------------------------------


def test_resend_inside_the_cooldown_is_refused_with_the_time_left(
    api_client, sms_outbox, time_machine
):
    time_machine.move_to(START, tick=False)
    send_code(api_client, PHONE)
    first_code = code_from_outbox(sms_outbox, PHONE)

    again = send_code(api_client, PHONE)
    assert_error(again, 429, "resend_too_soon")
    assert assert_retry_after(again) == 60

    time_machine.shift(45)
    later = send_code(api_client, PHONE)
    assert_error(later, 429, "resend_too_soon")
    assert assert_retry_after(later) == 15

    assert len(sms_outbox) == 1
    assert verify_code(api_client, PHONE, first_code).status_code == 200


def test_the_cooldown_ends(api_client, sms_outbox, time_machine):
    time_machine.move_to(START, tick=False)
    send_code(api_client, PHONE)
    time_machine.shift(60)

    assert send_code(api_client, PHONE).status_code == 200
    assert len(sms_outbox) == 2


def test_the_cooldown_is_per_phone(api_client):
    send_code(api_client, PHONE)

    assert send_code(api_client, "+79110000009").status_code == 200


# --- Budgets ---------------------------------------------------------------------------------


def test_default_budget_is_five_codes_per_phone_per_hour(api_client, sms_outbox, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(5):
        assert send_code(api_client, PHONE).status_code == 200
        time_machine.shift(61)

    refused = send_code(api_client, PHONE)

    assert_error(refused, 429, "rate_limited")
    assert assert_retry_after(refused) == 3600 - 5 * 61
    assert len(sms_outbox) == 5
    assert send_code(api_client, "+79110000009").status_code == 200


@override_settings(PHONE_AUTH_SEND_LIMITS={"phone_hour": (2, 3600)}, PHONE_AUTH_RESEND_COOLDOWN=60)
def test_a_refused_send_does_not_start_a_cooldown(api_client, time_machine):
    time_machine.move_to(START, tick=False)
    send_code(api_client, PHONE)
    time_machine.shift(61)
    send_code(api_client, PHONE)
    time_machine.shift(61)

    assert_error(send_code(api_client, PHONE), 429, "rate_limited")
    # Not resend_too_soon: the refused send left no cooldown behind.
    assert_error(send_code(api_client, PHONE), 429, "rate_limited")


@override_settings(PHONE_AUTH_SEND_LIMITS={"phone_hour": (2, 3600)}, **NO_COOLDOWN)
def test_per_phone_hourly_budget(api_client, sms_outbox):
    send_code(api_client, PHONE)
    send_code(api_client, PHONE)

    assert_error(send_code(api_client, PHONE), 429, "rate_limited")
    assert len(sms_outbox) == 2
    assert SignInCode.objects.count() == 2


@override_settings(
    PHONE_AUTH_SEND_LIMITS={"phone_hour": (100, 3600), "phone_day": (3, 86400)}, **NO_COOLDOWN
)
def test_per_phone_daily_budget(api_client, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(3):
        assert send_code(api_client, PHONE).status_code == 200

    refused = send_code(api_client, PHONE)

    assert_error(refused, 429, "rate_limited")
    assert assert_retry_after(refused) == 14 * 3600  # until midnight UTC ends the day window
    time_machine.shift(14 * 3600)
    assert send_code(api_client, PHONE).status_code == 200


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (2, 3600)})
def test_per_ip_budget(api_client):
    for n in range(2):
        assert (
            send_code(api_client, f"+7911000001{n}", REMOTE_ADDR="203.0.113.7").status_code == 200
        )

    refused = send_code(api_client, "+79110000019", REMOTE_ADDR="203.0.113.7")

    assert_error(refused, 429, "rate_limited")
    assert_retry_after(refused)
    assert send_code(api_client, "+79110000019", REMOTE_ADDR="203.0.113.8").status_code == 200


@override_settings(PHONE_AUTH_SEND_LIMITS={"global_hour": (3, 3600)})
def test_global_budget(api_client):
    for n in range(3):
        sent = send_code(api_client, f"+7911000002{n}", REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert sent.status_code == 200

    refused = send_code(api_client, "+79110000029", REMOTE_ADDR="198.51.100.99")

    assert_error(refused, 429, "rate_limited")
    assert_retry_after(refused)


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (1, 3600)}, PHONE_AUTH_TRUSTED_PROXIES=0)
def test_without_trusted_proxies_a_forwarded_for_header_is_ignored(api_client):
    first = send_code(
        api_client, "+79110000031", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    spoofed = send_code(
        api_client, "+79110000032", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.2"
    )

    assert first.status_code == 200
    assert_error(spoofed, 429, "rate_limited")


@override_settings(
    PHONE_AUTH_SEND_LIMITS={"ip_hour": (1, 3600)},
    PHONE_AUTH_TRUSTED_PROXIES=1,
    PHONE_AUTH_TRUSTED_PROXY_NETWORKS=["10.0.0.0/8"],
)
def test_one_trusted_proxy_makes_its_forwarded_address_the_client(api_client):
    proxy = "10.0.0.1"
    first = send_code(
        api_client, "+79110000031", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    other_client = send_code(
        api_client, "+79110000032", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.2"
    )
    # A client cannot escape its budget by prepending made-up hops: only the last counts.
    same_client = send_code(
        api_client,
        "+79110000033",
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.1",
    )

    assert first.status_code == 200
    assert other_client.status_code == 200
    assert_error(same_client, 429, "rate_limited")


@override_settings(PHONE_AUTH_RATE_LIMITS=False, PHONE_AUTH_SEND_LIMITS={"phone_hour": (1, 3600)})
def test_rate_limits_off_disables_the_budgets_but_not_the_cooldown(api_client, time_machine):
    time_machine.move_to(START, tick=False)
    for _ in range(3):
        assert send_code(api_client, PHONE).status_code == 200
        assert_error(send_code(api_client, PHONE), 429, "resend_too_soon")
        time_machine.shift(61)


# --- Sender failures -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["FailingSmsBackend", "CrashingSmsBackend"])
def test_sender_failure_is_503_without_provider_detail(api_client, sms_outbox, backend, auth_log):
    with override_settings(PHONE_AUTH_SMS_BACKEND=f"{__name__}.{backend}"):
        response = send_code(api_client, PHONE)

    body = assert_error(response, 503, "sms_unavailable")
    assert set(body) == {"code", "detail"}
    for leak in ("provider", "AC123", "secret", "socket", "401"):
        assert leak not in response.content.decode()
    code = code_from_outbox(failed_messages, PHONE)
    assert SignInCode.objects.get().status == SignInCode.Status.FAILED
    assert auth_log
    assert all(code not in record.getMessage() for record in auth_log)

    # The code is void and the cooldown released: the person can ask again at once.
    assert_error(verify_code(api_client, PHONE, code), 400, "no_active_code")
    assert send_code(api_client, PHONE).status_code == 200
    assert len(sms_outbox) == 1


# --- Regions ---------------------------------------------------------------------------------


@override_settings(PHONE_AUTH_ALLOWED_REGIONS=["ru", "KZ"])
def test_region_allow_list(api_client):
    refused = send_code(api_client, "+1 202 555 0143")

    body = assert_error(refused, 400, "phone_region_not_allowed")
    assert set(body) == {"code", "detail"}
    assert send_code(api_client, PHONE).status_code == 200
    assert send_code(api_client, "+7 701 000 00 00").status_code == 200
    assert SignInCode.objects.count() == 2


# --- Enumeration -----------------------------------------------------------------------------


def test_known_and_unknown_phones_get_the_same_answer(sign_in, api_client):
    known, unknown = "+79110000001", "+79110000002"
    sign_in(known)
    assert PhoneAccount.objects.filter(phone=known).exists()

    with CaptureQueriesContext(connection) as queries:
        for_known = send_code(api_client, known)
    for_unknown = send_code(api_client, unknown)

    assert for_known.status_code == for_unknown.status_code == 200
    assert for_known.json() == {**for_unknown.json(), "phone": known}
    assert dict(for_known.headers) == dict(for_unknown.headers)
    # Nothing about accounts is read, so the timing cannot tell them apart either.
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "phoneaccount" not in tables
    assert "auth_user" not in tables

    again_known = send_code(api_client, known)
    again_unknown = send_code(api_client, unknown)
    assert again_known.json() == again_unknown.json()
    assert dict(again_known.headers) == dict(again_unknown.headers)


# --- Async -----------------------------------------------------------------------------------


def test_send_code_is_an_async_view():
    assert SendCodeApi.view_is_async
    assert asyncio.iscoroutinefunction(SendCodeApi.as_view())


def test_wrong_method_on_send_code(api_client):
    response = api_client.get(SEND_CODE)

    assert_error(response, 405, "method_not_allowed")


def test_a_send_is_two_sql_statements(api_client):
    """The code is stored pending, then activated in one statement once the SMS is out."""
    with CaptureQueriesContext(connection) as queries:
        assert send_code(api_client, PHONE).status_code == 200

    assert len(queries.captured_queries) == 2, [query["sql"] for query in queries]
    assert SignInCode.objects.get().status == SignInCode.Status.ACTIVE
