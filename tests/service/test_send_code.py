"""``POST /api/v1/auth/send-code/``: phone parsing, the answer, demo mode, the console
sender's log line, the same answer for known and unknown phones, the cooldown and budgets.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from tests.service.conftest import SHORT_CODE_TTL, SHORT_RESEND_COOLDOWN
from tests.service.support import Api, Service, assert_invalid_input, in_parallel, new_phone
from tests.support import assert_error, assert_retry_after


def _forms(phone: str) -> list[str]:
    """The spellings API.md names for one Russian number given in E.164."""
    national = phone[2:]
    grouped = f"{national[:3]}) {national[3:6]}-{national[6:8]}-{national[8:]}"
    return [
        f"+7 ({grouped}",
        phone,
        phone[1:],
        "8" + national,
        national,
        f"+7 {grouped[:3]}{grouped[4:]}",
    ]


def test_answer_has_the_documented_fields(api: Api, phone: str) -> None:
    answer = api.send_code(phone)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"phone", "expires_in", "retry_after", "code_length", "debug_code"}
    assert body["phone"] == phone
    assert body["expires_in"] == 300
    assert body["retry_after"] == 60
    assert body["code_length"] == 4
    assert isinstance(body["debug_code"], str)
    assert re.fullmatch(r"\d{4}", body["debug_code"])


def test_outside_demo_mode_there_is_no_debug_code_and_settings_show(
    short_api: Api, phone: str
) -> None:
    answer = short_api.send_code(phone)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "phone": phone,
        "expires_in": SHORT_CODE_TTL,
        "retry_after": SHORT_RESEND_COOLDOWN,
        "code_length": 4,
    }


@pytest.mark.parametrize("form", range(6))
def test_every_documented_spelling_is_returned_in_e164(api: Api, form: int) -> None:
    phone = new_phone()
    answer = api.send_code(_forms(phone)[form])
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == phone


def test_the_spellings_are_one_person(api: Api, phone: str) -> None:
    first, *others = _forms(phone)
    code = api.new_code(first)
    for other in others:  # the same phone: its cooldown is running
        assert_error(api.send_code(other), 429, "resend_too_soon")
    verified = api.verify(others[-1], code)
    assert verified.status_code == 200, verified.text
    assert verified.json()["profile"]["phone"] == phone


def test_a_second_spelling_signs_in_the_same_user(short_api: Api, phone: str) -> None:
    first = short_api.sign_in("8" + phone[2:])
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    second = short_api.sign_in(phone[2:])
    assert first["is_new_user"] is True
    assert second["is_new_user"] is False
    assert second["profile"]["id"] == first["profile"]["id"]
    assert second["profile"]["phone"] == phone


@pytest.mark.parametrize(
    "value",
    ["not a phone", "12345", "+7911000000", "+791100000001", "+7 911 000 00 0x", "", "+"],
)
def test_invalid_or_impossible_numbers_are_invalid_input(api: Api, value: str) -> None:
    assert_invalid_input(api.send_code(value), "phone")


@pytest.mark.parametrize("value", [None, 79110000000, ["+79110000000"], {"n": 1}])
def test_a_phone_that_is_not_a_string_is_invalid_input(api: Api, value: object) -> None:
    assert_invalid_input(api.post("/api/v1/auth/send-code/", {"phone": value}), "phone")


def test_foreign_numbers_are_accepted_without_an_allow_list(api: Api) -> None:
    answer = api.send_code("+44 7400 123456")
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == "+447400123456"


def test_allow_list_rejects_other_regions(short_api: Api, phone: str) -> None:
    assert_error(short_api.send_code("+44 7400 123456"), 400, "phone_region_not_allowed")
    # Kazakhstan shares the +7 country code with Russia but is another region.
    assert_error(short_api.send_code("+7 701 123 45 67"), 400, "phone_region_not_allowed")
    assert short_api.send_code(phone).status_code == 200


def test_debug_code_is_the_code_in_the_console_sender_log_line(
    api: Api, service: Service, phone: str
) -> None:
    offset = service.log_size()
    code = api.new_code(phone)
    assert service.code_from_log(phone, offset) == code
    lines = service.sms_lines(phone, offset)
    assert len(lines) == 1, lines


def test_the_logged_code_signs_in(short_api: Api, short_service: Service, phone: str) -> None:
    offset = short_service.log_size()
    assert short_api.send_code("8" + phone[2:]).status_code == 200
    verified = short_api.verify(phone, short_service.code_from_log(phone, offset))
    assert verified.status_code == 200, verified.text


def test_known_and_unknown_phones_get_the_same_answer(short_api: Api) -> None:
    known, unknown = new_phone(), new_phone()
    short_api.sign_in(known)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    answers = [short_api.send_code(known), short_api.send_code(unknown)]
    assert [answer.status_code for answer in answers] == [200, 200]
    first, second = (answer.json() for answer in answers)
    assert set(first) == set(second)
    for key in ("expires_in", "retry_after", "code_length"):
        assert first[key] == second[key]

    known_headers, unknown_headers = (
        {name: value for name, value in answer.headers.items() if name.lower() != "date"}
        for answer in answers
    )
    assert known_headers == unknown_headers


def test_send_code_creates_no_user(api: Api, phone: str, staff_access: str) -> None:
    assert api.send_code(phone).status_code == 200
    search = api.get("/api/v1/users/", params={"search": phone[1:]}, token=staff_access)
    assert search.status_code == 200, search.text
    assert search.json()["results"] == []
    tokens = api.verify(phone, api.service.code_from_log(phone)).json()
    assert tokens["is_new_user"] is True
    search = api.get("/api/v1/users/", params={"search": phone[1:]}, token=staff_access)
    assert [user["id"] for user in search.json()["results"]] == [tokens["profile"]["id"]]


def test_resend_inside_the_cooldown_is_429_resend_too_soon(api: Api, phone: str) -> None:
    assert api.send_code(phone).status_code == 200
    body = assert_error(api.send_code(phone), 429, "resend_too_soon")
    assert 0 < body["retry_after"] <= 60


def test_resend_after_the_cooldown_is_allowed(short_api: Api, phone: str) -> None:
    assert short_api.send_code(phone).status_code == 200
    answer = assert_error(short_api.send_code(phone), 429, "resend_too_soon")
    assert answer["retry_after"] <= SHORT_RESEND_COOLDOWN
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    assert short_api.send_code(phone).status_code == 200


def test_parallel_sends_for_one_phone_send_one_code(api: Api, service: Service, phone: str) -> None:
    racers = [Api(service, api.ip) for _ in range(6)]
    try:
        answers = in_parallel(len(racers), lambda i: racers[i].send_code(phone))
    finally:
        for racer in racers:
            racer.close()
    assert sorted(answer.status_code for answer in answers) == [200] + [429] * 5
    for answer in answers:
        if answer.status_code == 429:
            assert_error(answer, 429, "resend_too_soon")


def test_another_clients_cooldown_does_not_hold_back_the_owner(
    service: Service, phone: str, clients: Callable[[Service], Api]
) -> None:
    attacker, owner = clients(service), clients(service)
    assert attacker.send_code(phone).status_code == 200
    assert_error(attacker.send_code(phone), 429, "resend_too_soon")
    assert owner.verify(phone, owner.new_code(phone)).status_code == 200


@pytest.mark.usefixtures("same_clock_hour")
def test_parallel_sends_from_one_ip_stay_inside_its_budget(
    service: Service, clients: Callable[[Service], Api]
) -> None:
    ip = clients(service).ip
    racers = [Api(service, ip) for _ in range(36)]
    try:
        answers = in_parallel(len(racers), lambda i: racers[i].send_code(new_phone()))
    finally:
        for racer in racers:
            racer.close()
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 30, statuses
    for answer in answers:
        if answer.status_code != 200:
            assert_error(answer, 429, "rate_limited")


def test_cooldown_is_per_phone(api: Api) -> None:
    assert api.send_code(new_phone()).status_code == 200
    assert api.send_code(new_phone()).status_code == 200


@pytest.mark.usefixtures("same_clock_hour")
def test_thirty_sends_per_client_ip_then_rate_limited(api: Api) -> None:
    ip = api.ip
    for index in range(30):  # a client cannot dodge the budget by spoofing earlier hops
        answer = api.request(
            "POST",
            "/api/v1/auth/send-code/",
            json={"phone": new_phone()},
            headers={"X-Forwarded-For": f"192.0.2.{index + 1}, {ip}"},
        )
        assert answer.status_code == 200, (index, answer.text)
    body = assert_error(api.send_code(new_phone()), 429, "rate_limited")
    assert body["retry_after"] > 0
    other_client = api.request(
        "POST",
        "/api/v1/auth/send-code/",
        json={"phone": new_phone()},
        headers={"X-Forwarded-For": f"{ip}, 198.51.100.7"},
    )
    assert other_client.status_code == 200, other_client.text


@pytest.mark.usefixtures("same_clock_hour")
def test_five_codes_per_phone_then_rate_limited(short_api: Api, phone: str) -> None:
    for index in range(5):
        if index:
            time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
        answer = short_api.send_code(phone)
        assert answer.status_code == 200, (index, answer.text)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    body = assert_error(short_api.send_code(phone), 429, "rate_limited")
    assert body["retry_after"] > 0
    assert assert_retry_after(short_api.send_code(phone)) > 0
