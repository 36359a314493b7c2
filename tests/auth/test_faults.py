"""Sends that are cut off or meet a failing database or cache leave the phone free to ask again.

The faults are real: a send task cancelled in its SMS wait, a database trigger that makes the
code's write fail, a Redis address where nothing listens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import ClassVar, TypeVar

import psycopg
import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from phone_auth import aio, services
from phone_auth.errors import ServiceUnavailableError
from phone_auth.models import SignInCode
from phone_auth.sms import BaseSmsBackend, SmsMessage
from tests.auth.support import PROFILE, send_code, verify_code
from tests.live_service import free_port
from tests.support import assert_error, assert_retry_after, bearer, code_from_outbox

T = TypeVar("T")

PHONE = "+79110000000"
ADDRESS = "198.51.100.7"
SLOW_CONSOLE = {"PHONE_AUTH_SMS_BACKEND": "console", "PHONE_AUTH_SMS_DELAY": "2"}


def client(address: str = ADDRESS) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def dead_cache() -> dict[str, dict[str, object]]:
    """A Redis cache on a port where nothing listens."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }


# --- Cancellation ----------------------------------------------------------------------------


@pytest.fixture(params=["threads", "event loop"])
def send_path(request: pytest.FixtureRequest) -> Callable[[Callable[[], Awaitable[T]]], T]:
    """Runs a coroutine as a synchronous caller does, or as the ASGI handler serves a request.

    Under the handler, with PostgreSQL and Redis, a send's storage steps run on the event
    loop (``phone_auth.aio``); otherwise on threads through the ORM.
    """

    def run(make: Callable[[], Awaitable[T]]) -> T:
        async def main() -> T:
            if request.param == "event loop":
                SyncToAsync.thread_sensitive_context.set(ThreadSensitiveContext())
                assert aio.loop_store() is not None
            else:
                assert aio.loop_store() is None
            try:
                return await make()
            finally:
                await aio.close_loop_store()

        return asyncio.run(main())

    return run


async def cancelled_send(after: float) -> None:
    task = asyncio.ensure_future(services.code_send(phone=PHONE, ip=ADDRESS))
    await asyncio.sleep(after)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.django_db(transaction=True)
@override_settings(**SLOW_CONSOLE)
def test_a_send_cancelled_in_its_sms_wait_leaves_no_code_and_no_cooldown(send_path):
    send_path(lambda: cancelled_send(0.5))

    assert not SignInCode.objects.filter(
        status__in=[SignInCode.Status.ACTIVE, SignInCode.Status.PENDING]
    ).exists()
    assert SignInCode.objects.get().status == SignInCode.Status.FAILED
    with override_settings(PHONE_AUTH_SMS_DELAY="0"):
        assert send_path(lambda: services.code_send(phone=PHONE, ip=ADDRESS)).phone == PHONE


@pytest.mark.django_db(transaction=True)
@override_settings(**SLOW_CONSOLE)
def test_a_send_cancelled_while_it_stores_its_code_leaves_no_cooldown(send_path):
    send_path(lambda: cancelled_send(0))

    assert not SignInCode.objects.filter(status=SignInCode.Status.ACTIVE).exists()
    with override_settings(PHONE_AUTH_SMS_DELAY="0"):
        assert send_path(lambda: services.code_send(phone=PHONE, ip=ADDRESS)).phone == PHONE


class AcceptingSmsBackend(BaseSmsBackend):
    """A provider that accepts at once and says so to the test (on the test's loop)."""

    accepted: ClassVar[asyncio.Event | None] = None

    async def send(self, message: SmsMessage) -> None:
        assert self.accepted is not None
        self.accepted.set()


@pytest.mark.django_db(transaction=True)
@override_settings(PHONE_AUTH_SMS_BACKEND=f"{__name__}.AcceptingSmsBackend")
def test_a_send_cancelled_after_the_sender_accepted_still_activates_its_code(send_path):
    async def cancelled_after_acceptance() -> None:
        accepted = AcceptingSmsBackend.accepted = asyncio.Event()
        task = asyncio.ensure_future(services.code_send(phone=PHONE, ip=ADDRESS))
        await accepted.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):  # the activation finishes on its own
            if await services.run_sync(_is_active):
                return
            await asyncio.sleep(0.05)

    send_path(cancelled_after_acceptance)

    assert SignInCode.objects.get().status == SignInCode.Status.ACTIVE


def _is_active() -> bool:
    try:
        return SignInCode.objects.filter(status=SignInCode.Status.ACTIVE).exists()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_pending_code_is_never_valid(next_codes):
    """A process killed between storing a code and handing it to the sender left it pending."""
    services.code_store(phone=PHONE, client=ADDRESS, code="1234")

    assert_error(verify_code(client(), PHONE, "1234"), 400, "no_active_code")


# --- A database write that fails -------------------------------------------------------------


@pytest.fixture
def failing_code_writes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every insert into the code table fails in the database, with ``request.param``'s state."""
    state = request.param
    table = SignInCode._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_code_write() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '{state}'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_code_write BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_code_write()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER refuse_code_write ON {table}")
        cursor.execute("DROP FUNCTION refuse_code_write()")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("failing_code_writes", "status", "code"),
    [("08006", 503, "service_unavailable"), ("P0001", 500, "server_error")],
    indirect=["failing_code_writes"],
)
def test_a_failed_code_write_leaves_no_cooldown(failing_code_writes, status, code, sms_outbox):
    answer = send_code(client(), PHONE)

    assert_error(answer, status, code)
    if status == 503:
        assert_retry_after(answer)
    assert sms_outbox == []
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {SignInCode._meta.db_table} DISABLE TRIGGER refuse_code_write")
    assert send_code(client(), PHONE).status_code == 200
    assert len(sms_outbox) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("send_path", ["event loop"], indirect=True)
@pytest.mark.parametrize(
    ("failing_code_writes", "refusal"),
    [("08006", ServiceUnavailableError), ("P0001", psycopg.errors.RaiseException)],
    indirect=["failing_code_writes"],
)
def test_a_failed_code_write_on_the_event_loop_leaves_no_cooldown(
    failing_code_writes, refusal, send_path, sms_outbox
):
    with pytest.raises(refusal):
        send_path(lambda: services.code_send(phone=PHONE, ip=ADDRESS))

    assert sms_outbox == []
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {SignInCode._meta.db_table} DISABLE TRIGGER refuse_code_write")
    assert send_path(lambda: services.code_send(phone=PHONE, ip=ADDRESS)).phone == PHONE
    assert len(sms_outbox) == 1


# --- Redis unreachable -----------------------------------------------------------------------


@pytest.mark.django_db
def test_send_code_with_redis_down_is_503_and_sends_nothing(sms_outbox):
    with override_settings(CACHES=dead_cache()):
        answer = send_code(client(), PHONE)

    assert_error(answer, 503, "service_unavailable")
    assert assert_retry_after(answer) >= 1
    assert sms_outbox == []
    assert not SignInCode.objects.exists()
    # Nothing was left behind: once Redis is back the phone gets its code at once.
    assert send_code(client(), PHONE).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("send_path", ["event loop"], indirect=True)
def test_a_send_on_the_event_loop_with_redis_down_is_503_and_sends_nothing(send_path, sms_outbox):
    with override_settings(CACHES=dead_cache()), pytest.raises(ServiceUnavailableError):
        send_path(lambda: services.code_send(phone=PHONE, ip=ADDRESS))

    assert sms_outbox == []
    assert not SignInCode.objects.exists()
    assert send_path(lambda: services.code_send(phone=PHONE, ip=ADDRESS)).phone == PHONE


@pytest.mark.django_db
def test_verify_code_with_redis_down_signs_in_the_client_that_asked(sms_outbox):
    assert send_code(client(), PHONE).status_code == 200
    code = code_from_outbox(sms_outbox, PHONE)

    with override_settings(CACHES=dead_cache()):
        assert_error(verify_code(client("203.0.113.9"), PHONE, "0000"), 503, "service_unavailable")
        wrong = verify_code(client(), PHONE, f"{(int(code) + 1) % 10000:04d}")
        assert_error(wrong, 400, "invalid_code")
        signed_in = verify_code(client(), PHONE, code)
        assert signed_in.status_code == 200, signed_in.content
        profile = bearer(signed_in.json()["access"]).get(PROFILE)
        assert profile.status_code == 200
