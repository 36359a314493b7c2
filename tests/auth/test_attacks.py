"""One client, or many, against the sign-in of everyone else: each client its own address.

Every scenario is the way an attacker would try it: distinct ``REMOTE_ADDR`` values are
distinct clients, the owner of a phone asks from an address the attacker does not have.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from phone_auth.models import SignInCode
from tests.auth.support import send_code, verify_code
from tests.support import assert_error, assert_retry_after, code_from_outbox

pytestmark = pytest.mark.django_db

VICTIM = "+79110000000"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.10"
NO_COOLDOWN = {"PHONE_AUTH_RESEND_COOLDOWN": 0}


def client(address: str) -> APIClient:
    """An API client whose requests come from ``address``."""
    return APIClient(REMOTE_ADDR=address)


def phone(n: int) -> str:
    return f"+7912{n:07d}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


# --- Sends -----------------------------------------------------------------------------------


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (3, 3600), "global_hour": (5, 3600)})
def test_refused_sends_of_a_spent_client_cost_everyone_else_nothing(sms_outbox):
    attacker = client(ATTACKER)
    for n in range(3):
        assert send_code(attacker, phone(n)).status_code == 200
    for n in range(3, 60):
        assert_error(send_code(attacker, phone(n)), 429, "rate_limited")

    # The global budget counted the 3 codes sent, not the 57 refusals: others still get codes.
    assert send_code(client("198.51.100.1"), phone(100)).status_code == 200
    assert send_code(client("198.51.100.2"), phone(101)).status_code == 200
    assert len(sms_outbox) == 5


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (1, 3600)})
def test_refused_sends_for_a_chosen_phone_do_not_block_it(sms_outbox):
    attacker = client(ATTACKER)
    assert send_code(attacker, phone(1)).status_code == 200
    for _ in range(12):
        assert_error(send_code(attacker, VICTIM), 429, "rate_limited")

    assert send_code(client(OWNER), VICTIM).status_code == 200
    assert code_from_outbox(sms_outbox, VICTIM)


@override_settings(**NO_COOLDOWN)
def test_one_client_cannot_spend_the_sends_of_a_phone():
    attacker = client(ATTACKER)
    for _ in range(5):
        assert send_code(attacker, VICTIM).status_code == 200
    refused = send_code(attacker, VICTIM)
    assert_error(refused, 429, "rate_limited")
    assert assert_retry_after(refused) > 0

    assert send_code(client(OWNER), VICTIM).status_code == 200


def test_the_cooldown_of_one_client_does_not_hold_back_the_owner(sms_outbox):
    assert send_code(client(ATTACKER), VICTIM).status_code == 200
    assert_error(send_code(client(ATTACKER), VICTIM), 429, "resend_too_soon")

    assert send_code(client(OWNER), VICTIM).status_code == 200
    assert SignInCode.objects.filter(status=SignInCode.Status.ACTIVE).count() == 1


# --- Wrong codes -----------------------------------------------------------------------------


@override_settings(**NO_COOLDOWN)
def test_wrong_codes_of_one_client_never_lock_out_the_owner(sms_outbox):
    attacker = client(ATTACKER)
    for _ in range(5):  # every send it may make for the phone, each guessed wrong
        assert send_code(attacker, VICTIM).status_code == 200
        code = code_from_outbox(sms_outbox, VICTIM)
        for _attempt in range(3):
            assert verify_code(attacker, VICTIM, wrong(code)).status_code in (400, 429)
    assert_error(verify_code(attacker, VICTIM, wrong(code)), 429, "too_many_attempts")

    owner = client(OWNER)
    assert send_code(owner, VICTIM).status_code == 200
    signed_in = verify_code(owner, VICTIM, code_from_outbox(sms_outbox, VICTIM))
    assert signed_in.status_code == 200, signed_in.content


def test_wrong_codes_after_the_owner_asked_do_not_burn_the_owners_code(sms_outbox):
    owner = client(OWNER)
    assert send_code(owner, VICTIM).status_code == 200
    code = code_from_outbox(sms_outbox, VICTIM)

    attacker = client(ATTACKER)
    answers = [verify_code(attacker, VICTIM, wrong(code)) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [400, 400, 400, 429, 429, 429]
    assert [answer.json().get("attempts_left") for answer in answers[:3]] == [2, 1, 0]
    assert_error(answers[3], 429, "too_many_attempts")

    assert verify_code(owner, VICTIM, code).status_code == 200


def test_the_owner_signs_in_after_polling_and_guessing_from_other_clients(sms_outbox):
    attackers = [client(f"203.0.113.{n}") for n in range(1, 4)]
    for attacker in attackers:  # polling while there is no code is answered, and costs nothing
        assert_error(verify_code(attacker, VICTIM, "0000"), 400, "no_active_code")
    owner = client(OWNER)
    assert send_code(owner, VICTIM).status_code == 200
    code = code_from_outbox(sms_outbox, VICTIM)
    for attacker in attackers:
        for _ in range(3):
            verify_code(attacker, VICTIM, wrong(code))

    assert verify_code(owner, VICTIM, code).status_code == 200


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (100, 3600)})
def test_one_client_is_evaluated_at_most_twenty_wrong_codes_an_hour(sms_outbox):
    owner = client(OWNER)
    phones = [phone(n) for n in range(20)]
    codes = {}
    for number in phones:
        assert send_code(owner, number).status_code == 200
        codes[number] = code_from_outbox(sms_outbox, number)

    attacker = client(ATTACKER)
    statuses = [
        verify_code(attacker, number, wrong(codes[number])).status_code
        for _ in range(3)
        for number in phones
    ]
    assert statuses.count(400) == 20
    refused = verify_code(attacker, phones[0], codes[phones[0]])
    assert_error(refused, 429, "rate_limited")
    assert assert_retry_after(refused) > 0
    # The owner's own codes are untouched.
    assert verify_code(owner, phones[0], codes[phones[0]]).status_code == 200


def test_a_phone_gets_at_most_thirty_wrong_codes_a_day_from_any_number_of_clients(sms_outbox):
    assert send_code(client(OWNER), VICTIM).status_code == 200
    code = code_from_outbox(sms_outbox, VICTIM)

    outcomes: list[Any] = []
    for n in range(1, 16):  # 15 clients, three guesses each
        attacker = client(f"203.0.113.{n}")
        outcomes += [verify_code(attacker, VICTIM, wrong(code)) for _ in range(3)]

    evaluated = [answer for answer in outcomes if answer.status_code == 400]
    assert len(evaluated) == 30
    for answer in outcomes:
        if answer.status_code != 400:
            assert_error(answer, 429, "too_many_attempts")


# --- Numbers and networks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+979 1234 56789",  # premium rate
        "+7 800 555-35-35",  # toll free
        "+7 495 123-45-67",  # landline
    ],
)
def test_numbers_that_cannot_receive_a_code_are_refused(number, sms_outbox):
    body = assert_error(send_code(client(ATTACKER), number), 400, "invalid_input")
    assert body["fields"]["phone"]
    assert sms_outbox == []


@override_settings(PHONE_AUTH_PHONE_TYPES=["MOBILE", "FIXED_LINE_OR_MOBILE", "FIXED_LINE"])
def test_the_accepted_number_types_are_a_setting():
    assert send_code(client(ATTACKER), "+7 495 123-45-67").status_code == 200


@override_settings(PHONE_AUTH_DENIED_REGIONS=["kz"])
def test_region_deny_list():
    assert_error(send_code(client(ATTACKER), "+7 701 000 00 00"), 400, "phone_region_not_allowed")
    assert send_code(client(ATTACKER), VICTIM).status_code == 200


@override_settings(PHONE_AUTH_REGION_SEND_LIMITS={"KZ": 2})
def test_per_region_hourly_budget():
    for n in range(2):
        assert send_code(client(f"198.51.100.{n}"), f"+7701000000{n}").status_code == 200
    assert_error(send_code(client("198.51.100.9"), "+77010000009"), 429, "rate_limited")
    assert send_code(client("198.51.100.9"), VICTIM).status_code == 200


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (30, 3600)})
def test_one_ipv6_64_is_one_client():
    statuses = [
        send_code(client(f"2001:db8:7:7::{n:x}"), phone(n)).status_code for n in range(1, 41)
    ]
    assert statuses.count(200) == 30
    assert send_code(client("2001:db8:7:8::1"), phone(99)).status_code == 200


@override_settings(PHONE_AUTH_SEND_LIMITS={"ip_hour": (30, 3600)})
def test_an_ipv4_mapped_address_is_its_ipv4_address():
    statuses = [
        send_code(client("9.9.7.7" if n % 2 else "::ffff:9.9.7.7"), phone(n)).status_code
        for n in range(60)
    ]
    assert statuses.count(200) == 30


# --- Demo mode -------------------------------------------------------------------------------


@override_settings(PHONE_AUTH_EXPOSE_CODES="loopback")
@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.168.1.20", False),
        ("2001:db8::1", False),
    ],
)
def test_local_demo_mode_shows_codes_to_loopback_clients_only(address, shown, sms_outbox):
    body = send_code(client(address), VICTIM).json()

    assert ("debug_code" in body) is shown
    if shown:
        assert body["debug_code"] == code_from_outbox(sms_outbox, VICTIM)


@override_settings(PHONE_AUTH_EXPOSE_CODES="loopback", PHONE_AUTH_TRUSTED_PROXIES=1)
def test_a_forwarded_loopback_address_does_not_claim_the_code():
    answer = send_code(client("192.168.1.20"), VICTIM, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert "debug_code" not in answer.json()


@override_settings(PHONE_AUTH_EXPOSE_CODES=True)
def test_a_public_demo_shows_codes_to_every_client():
    assert "debug_code" in send_code(client("192.168.1.20"), VICTIM).json()
