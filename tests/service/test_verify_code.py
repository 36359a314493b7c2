"""``POST /api/v1/auth/verify-code/``: the sign-in answer, and every way a code is refused."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.service.conftest import SHORT_CODE_TTL, SHORT_RESEND_COOLDOWN
from tests.service.support import (
    E164_RU,
    INVITE_CODE,
    PROFILE_FIELDS,
    Api,
    Service,
    assert_invalid_input,
    assert_utc_timestamp,
    in_parallel,
    new_phone,
)
from tests.support import assert_error


def _wrong(code: str) -> str:
    """A code of the same length that is not ``code``."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_first_sign_in_answer(api: Api, phone: str) -> None:
    answer = api.verify(phone, api.new_code(phone))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in", "is_new_user", "profile"}
    assert isinstance(body["access"], str)
    assert isinstance(body["refresh"], str)
    assert body["access"] != body["refresh"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["is_new_user"] is True
    profile = body["profile"]
    assert set(profile) >= PROFILE_FIELDS, profile
    assert isinstance(profile["id"], int)
    assert profile["phone"] == phone
    assert E164_RU.fullmatch(profile["phone"])
    assert INVITE_CODE.fullmatch(profile["invite_code"]), profile
    assert profile["activated_invite_code"] is None
    assert profile["inviter_phone"] is None
    assert profile["referrals"] == []
    assert profile["referrals_count"] == 0
    assert profile["points"] == 0
    assert profile["first_name"] == profile["last_name"] == profile["email"] == ""
    assert_utc_timestamp(profile["date_joined"])
    assert api.profile(body["access"]) == profile


def test_next_sign_in_is_not_a_new_user(short_api: Api, phone: str) -> None:
    first = short_api.sign_in(phone)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    second = short_api.sign_in(phone)
    assert second["is_new_user"] is False
    assert second["profile"]["id"] == first["profile"]["id"]
    assert second["profile"]["invite_code"] == first["profile"]["invite_code"]
    assert second["refresh"] != first["refresh"]


def test_users_get_different_invite_codes(api: Api) -> None:
    codes = {api.sign_in(new_phone())["profile"]["invite_code"] for _ in range(5)}
    assert len(codes) == 5


def test_wrong_code_is_invalid_code_with_attempts_left(api: Api, phone: str) -> None:
    code = api.new_code(phone)
    body = assert_error(api.verify(phone, _wrong(code)), 400, "invalid_code")
    assert body["attempts_left"] == 2
    body = assert_error(api.verify(phone, _wrong(code)), 400, "invalid_code")
    assert body["attempts_left"] == 1
    assert api.verify(phone, code).status_code == 200


def test_three_wrong_entries_burn_the_code(api: Api, phone: str) -> None:
    code = api.new_code(phone)
    for left in (2, 1):
        body = assert_error(api.verify(phone, _wrong(code)), 400, "invalid_code")
        assert body["attempts_left"] == left
    third = api.verify(phone, _wrong(code))
    if third.status_code == 400:  # the last failure may still be told as invalid_code
        assert assert_error(third, 400, "invalid_code")["attempts_left"] == 0
    else:
        assert_error(third, 429, "too_many_attempts")
    assert_error(api.verify(phone, code), 429, "too_many_attempts")


def test_a_new_code_works_after_one_was_burned(short_api: Api, phone: str) -> None:
    code = short_api.new_code(phone)
    for _ in range(3):
        assert short_api.verify(phone, _wrong(code)).status_code in (400, 429)
    assert_error(short_api.verify(phone, code), 429, "too_many_attempts")
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    assert short_api.verify(phone, short_api.new_code(phone)).status_code == 200


@pytest.mark.usefixtures("same_clock_hour")
def test_repeated_failures_across_codes_lock_the_phone(short_api: Api, phone: str) -> None:
    locked_with: str | None = None
    for index in range(5):  # the per-phone budget: five codes an hour
        if index:
            time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
        code = short_api.new_code(phone)
        for _attempt in range(2):  # fewer than the per-code limit of 3
            answer = short_api.verify(phone, _wrong(code))
            if answer.status_code == 429:
                assert_error(answer, 429, "too_many_attempts")
                locked_with = code
                break
            assert_error(answer, 400, "invalid_code")
        if locked_with:
            break
        third = short_api.verify(phone, _wrong(code))
        assert third.status_code in (400, 429), third.text
        assert_error(third, third.status_code, ("invalid_code", "too_many_attempts"))
    assert locked_with is not None, "five codes' worth of failures did not lock the phone"
    assert_error(short_api.verify(phone, locked_with), 429, "too_many_attempts")


def test_never_requested_is_no_active_code(api: Api, phone: str) -> None:
    assert_error(api.verify(phone, "1234"), 400, "no_active_code")


def test_used_code_is_no_active_code(api: Api, phone: str) -> None:
    code = api.new_code(phone)
    assert api.verify(phone, code).status_code == 200
    assert_error(api.verify(phone, code), 400, "no_active_code")


def test_replaced_code_is_no_active_code(short_api: Api, phone: str) -> None:
    first = short_api.new_code(phone)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    second = short_api.new_code(phone)
    while second == first:  # one chance in 10,000: ask once more
        time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
        second = short_api.new_code(phone)
    assert_error(short_api.verify(phone, first), 400, ("no_active_code", "invalid_code"))
    assert short_api.verify(phone, second).status_code == 200


def test_replaced_code_when_nothing_else_is_pending_is_no_active_code(
    short_api: Api, phone: str
) -> None:
    first = short_api.new_code(phone)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    second = short_api.new_code(phone)
    assert short_api.verify(phone, second).status_code == 200
    assert_error(short_api.verify(phone, first), 400, "no_active_code")


def test_expired_code_is_no_active_code(short_api: Api, phone: str) -> None:
    code = short_api.new_code(phone)
    time.sleep(SHORT_CODE_TTL + 1)
    assert_error(short_api.verify(phone, code), 400, "no_active_code")


def test_a_code_belongs_to_its_phone(api: Api, phone: str) -> None:
    code = api.new_code(phone)
    assert_error(api.verify(new_phone(), code), 400, "no_active_code")
    assert api.verify(phone, code).status_code == 200


def test_verify_accepts_every_spelling_of_the_phone(api: Api, phone: str) -> None:
    code = api.new_code(phone)
    answer = api.verify("8 (" + phone[2:5] + ") " + phone[5:], code)
    assert answer.status_code == 200, answer.text
    assert answer.json()["profile"]["phone"] == phone


@pytest.mark.parametrize(
    "code", ["12a4", "123", "12345", "", "    ", "\uff11\uff12\uff13\uff14", "12.4", "-123"]
)
def test_code_that_is_not_all_digits_of_the_right_length_is_invalid_input(
    api: Api, phone: str, code: str
) -> None:
    api.new_code(phone)
    assert_invalid_input(api.verify(phone, code), "code")


def test_invalid_phone_in_verify_is_invalid_input(api: Api) -> None:
    assert_invalid_input(api.verify("garbage", "1234"), "phone")


def test_two_correct_submissions_at_once_yield_one_success(
    api: Api, service: Service, phone: str, clients: Callable[[Service], Api]
) -> None:
    code = api.new_code(phone)
    racers = [clients(service) for _ in range(5)]
    answers = in_parallel(len(racers), lambda i: racers[i].verify(phone, code))
    assert sorted(answer.status_code for answer in answers)[0] == 200
    assert [answer.status_code for answer in answers].count(200) == 1, [
        answer.text for answer in answers
    ]
    for answer in answers:
        if answer.status_code != 200:
            assert_error(answer, answer.status_code)
            assert answer.status_code in (400, 429)
