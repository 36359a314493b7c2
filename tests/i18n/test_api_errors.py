"""API error details follow ``Accept-Language`` (English by default); codes never change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from phone_auth.sms import SmsMessage
from tests.auth.support import PROFILE, send_code
from tests.support import assert_error, code_from_outbox

pytestmark = pytest.mark.django_db

RUSSIAN = {"HTTP_ACCEPT_LANGUAGE": "ru"}


@pytest.mark.parametrize(
    ("headers", "detail", "field_message"),
    [
        ({}, "Invalid input.", "Enter a valid phone number."),
        ({"HTTP_ACCEPT_LANGUAGE": "en"}, "Invalid input.", "Enter a valid phone number."),
        (RUSSIAN, "Проверьте введённые данные.", "Введите корректный номер телефона."),
        (
            {"HTTP_ACCEPT_LANGUAGE": "ru-RU,ru;q=0.9,en;q=0.8"},
            "Проверьте введённые данные.",
            "Введите корректный номер телефона.",
        ),
    ],
)
def test_invalid_phone(headers: dict[str, str], detail: str, field_message: str) -> None:
    body = assert_error(send_code(APIClient(), "12", **headers), 400, "invalid_input")
    assert body["detail"] == detail
    assert body["fields"] == {"phone": [field_message]}


def test_unknown_field_and_wrong_code_format_in_russian() -> None:
    response = APIClient().post(
        "/api/v1/auth/verify-code/",
        {"phone": "+79110000001", "code": "12", "extra": 1},
        format="json",
        **RUSSIAN,
    )
    body = assert_error(response, 400, "invalid_input")
    assert body["fields"] == {"extra": ["Это поле нельзя передавать."]}
    response = APIClient().post(
        "/api/v1/auth/verify-code/",
        {"phone": "+79110000001", "code": "12"},
        format="json",
        **RUSSIAN,
    )
    body = assert_error(response, 400, "invalid_input")
    assert body["fields"] == {"code": ["Введите 4-значный код из SMS."]}


def test_not_authenticated() -> None:
    english = assert_error(APIClient().get(PROFILE), 401, "not_authenticated")
    assert english["detail"] == "Authentication credentials were not provided."
    russian = assert_error(APIClient().get(PROFILE, **RUSSIAN), 401, "not_authenticated")
    assert russian["detail"] == "Учётные данные не предоставлены."


def test_resend_too_soon() -> None:
    client = APIClient()
    assert send_code(client, "+79110000001").status_code == 200
    english = assert_error(send_code(client, "+79110000001"), 429, "resend_too_soon")
    assert english["detail"] == "A code was sent recently. Wait before asking for another one."
    russian = assert_error(send_code(client, "+79110000001", **RUSSIAN), 429, "resend_too_soon")
    assert russian["detail"] == "Код уже отправлен. Подождите, прежде чем запрашивать новый."


def test_wrong_code_keeps_its_extra_fields_in_russian(sms_outbox: list[SmsMessage]) -> None:
    client = APIClient()
    send_code(client, "+79110000001")
    wrong = "1111" if code_from_outbox(sms_outbox, "+79110000001") == "0000" else "0000"
    response = client.post(
        "/api/v1/auth/verify-code/",
        {"phone": "+79110000001", "code": wrong},
        format="json",
        **RUSSIAN,
    )
    body = assert_error(response, 400, "invalid_code")
    assert body["detail"] == "Неверный код."
    assert body["attempts_left"] == 2


def test_invite_code_not_found(auth_client: Callable[[str], APIClient]) -> None:
    client = auth_client("+79110000001")
    url = "/api/v1/profile/invite/"
    english = assert_error(
        client.post(url, {"invite_code": "ZZZZZZ"}, format="json"), 404, "invite_code_not_found"
    )
    assert english["detail"] == "No user has this invite code."
    russian = assert_error(
        client.post(url, {"invite_code": "ZZZZZZ"}, format="json", **RUSSIAN),
        404,
        "invite_code_not_found",
    )
    assert russian["detail"] == "Код приглашения не найден."


def test_own_invite_code_in_russian(auth_client: Callable[[str], APIClient]) -> None:
    client = auth_client("+79110000001")
    own = client.tokens["profile"]["invite_code"]  # type: ignore[attr-defined]
    response = client.post(
        "/api/v1/profile/invite/", {"invite_code": own}, format="json", **RUSSIAN
    )
    body = assert_error(response, 400, "own_invite_code")
    assert body["detail"] == "Нельзя активировать собственный код приглашения."


def test_json_not_found_outside_drf_in_russian() -> None:
    body = assert_error(APIClient().get("/api/v1/nowhere/", **RUSSIAN), 404, "not_found")
    assert body["detail"] == "Страница не найдена."
