"""Parallel requests against the real PostgreSQL: one code, one success, one user, one refresh."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from phone_auth import services
from phone_auth.models import LoginSession, PhoneAccount, RefreshTokenRecord, SignInCode
from referrals.models import Profile
from tests.auth.support import refresh, send_code, verify_code

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "+79110000000"


def in_parallel(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; each closes its connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def outcome(response: Any) -> str:
    """``ok`` or the error code of a response."""
    return "ok" if response.status_code == 200 else str(response.json()["code"])


@pytest.mark.parametrize("count", [2, 10])
def test_correct_codes_at_once_sign_in_once(next_codes, count):
    next_codes("1234")
    send_code(APIClient(), PHONE)

    responses = in_parallel(count, lambda _: verify_code(APIClient(), PHONE, "1234"))

    outcomes = Counter(outcome(response) for response in responses)
    assert outcomes == {"ok": 1, "no_active_code": count - 1}
    assert get_user_model().objects.count() == 1
    assert PhoneAccount.objects.count() == 1
    assert Profile.objects.count() == 1
    assert LoginSession.objects.count() == 1
    assert SignInCode.objects.get().status == SignInCode.Status.USED


def test_parallel_first_sign_ins_create_one_user():
    results = in_parallel(10, lambda _: services.user_get_or_create(phone=PHONE))

    assert len({user.pk for user, _ in results}) == 1
    assert sum(is_new for _, is_new in results) == 1
    assert get_user_model().objects.count() == 1
    assert Profile.objects.count() == 1


def test_parallel_guesses_cannot_pass_the_attempt_limit(next_codes):
    next_codes("0007")
    send_code(APIClient(), PHONE)
    guesses = [f"{n:04d}" for n in range(20)]  # every one different, "0007" among them

    responses = in_parallel(20, lambda i: verify_code(APIClient(), PHONE, guesses[i]))

    outcomes = Counter(outcome(response) for response in responses)
    row = SignInCode.objects.get()
    # At most three entries were compared; the right one wins if it was among them, and a
    # success ends the code before the others reserve theirs, so fewer may be compared.
    assert row.attempts <= 3
    assert outcomes["ok"] + outcomes["invalid_code"] == row.attempts
    assert outcomes["ok"] <= 1
    if not outcomes["ok"]:
        assert row.attempts == 3
    assert set(outcomes) <= {"ok", "invalid_code", "too_many_attempts", "no_active_code"}
    if outcomes["ok"]:
        assert row.status == SignInCode.Status.USED
        assert responses[7].status_code == 200
    else:
        assert row.status == SignInCode.Status.BURNED
    assert get_user_model().objects.count() == outcomes["ok"]


def test_parallel_sends_for_one_phone_give_one_code(sms_outbox):
    responses = in_parallel(10, lambda _: send_code(APIClient(), PHONE))

    outcomes = Counter(outcome(response) for response in responses)
    assert outcomes == {"ok": 1, "resend_too_soon": 9}
    assert SignInCode.objects.filter(status=SignInCode.Status.ACTIVE).count() == 1
    assert len(sms_outbox) == 1


@override_settings(PHONE_AUTH_RESEND_COOLDOWN=0, PHONE_AUTH_RATE_LIMITS=False)
def test_parallel_sends_without_cooldown_leave_one_active_code(sms_outbox):
    responses = in_parallel(10, lambda _: send_code(APIClient(), PHONE))

    assert {response.status_code for response in responses} == {200}
    assert SignInCode.objects.filter(status=SignInCode.Status.ACTIVE).count() == 1
    assert SignInCode.objects.count() == 10


def test_parallel_refresh_with_one_token_rotates_once(sign_in):
    tokens = sign_in(PHONE)

    responses = in_parallel(10, lambda _: refresh(APIClient(), tokens["refresh"]))

    outcomes = Counter(outcome(response) for response in responses)
    assert outcomes == {"ok": 1, "token_not_valid": 9}
    assert RefreshTokenRecord.objects.count() == 2
    assert LoginSession.objects.get().revoked_at is None


def test_parallel_guesses_of_another_client_cannot_burn_the_owners_code(next_codes):
    next_codes("0007")
    owner = "198.51.100.1"
    send_code(APIClient(REMOTE_ADDR=owner), PHONE)
    guesses = [f"{n:04d}" for n in range(100, 120)]

    responses = in_parallel(
        20, lambda i: verify_code(APIClient(REMOTE_ADDR="203.0.113.5"), PHONE, guesses[i])
    )

    outcomes = Counter(outcome(response) for response in responses)
    assert outcomes == {"invalid_code": 3, "too_many_attempts": 17}
    assert SignInCode.objects.get().attempts == 0
    assert verify_code(APIClient(REMOTE_ADDR=owner), PHONE, "0007").status_code == 200


@override_settings(PHONE_AUTH_RESEND_COOLDOWN=0, PHONE_AUTH_RATE_LIMITS=False)
def test_rounds_of_parallel_sends_never_deadlock(sms_outbox):
    """Parallel activations of one phone's codes take one lock, never rows in a random order."""
    for round_ in range(8):
        phone = f"+7911000{round_:04d}"
        responses = in_parallel(10, lambda _, phone=phone: send_code(APIClient(), phone))
        assert [response.status_code for response in responses] == [200] * 10, [
            response.content for response in responses if response.status_code != 200
        ]
        assert SignInCode.objects.filter(phone=phone, status=SignInCode.Status.ACTIVE).count() == 1
