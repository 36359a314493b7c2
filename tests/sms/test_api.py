"""Sign-in through a real provider's sender, with the provider's HTTP replaced."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from django.core.checks import Error

from phone_auth.checks import check_phone_auth
from phone_auth.models import SignInCode
from phone_auth.sms.exolve import ExolveSmsBackend
from phone_auth.sms.smsaero import SmsAeroSmsBackend
from phone_auth.sms.twilio import TwilioSmsBackend
from tests.sms.conftest import OPTIONS, SECRETS

pytestmark = pytest.mark.django_db

SEND = "/api/v1/auth/send-code/"


@pytest.fixture
def exolve(settings):
    settings.PHONE_AUTH_SMS_BACKEND = "exolve"
    settings.PHONE_AUTH_SMS_OPTIONS = OPTIONS


def test_provider_down_is_503_without_provider_detail(exolve, provider, monkeypatch, api_client):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("api.exolve.ru: Name or service not known", request=request)

    monkeypatch.setattr(ExolveSmsBackend, "transport", provider(refuse).transport)

    response = api_client.post(SEND, {"phone": "+79110000000"}, format="json")

    assert response.status_code == 503
    body = response.json()
    assert body == {
        "code": "sms_unavailable",
        "detail": "The SMS could not be sent. Try again later.",
    }
    for leak in ("exolve", "Exolve", "ConnectError", *SECRETS):
        assert leak not in response.content.decode()
    assert list(SignInCode.objects.values_list("status", flat=True)) == ["failed"]


def test_provider_error_answer_is_503_and_the_phone_may_retry_at_once(
    exolve, provider, monkeypatch, api_client
):
    answers = iter(
        [
            httpx.Response(500, json={"error": {"message": f"key {OPTIONS['EXOLVE_API_KEY']}"}}),
            httpx.Response(200, json={"message_id": "42"}),
        ]
    )
    fake = provider(lambda request: next(answers))
    monkeypatch.setattr(ExolveSmsBackend, "transport", fake.transport)

    failed = api_client.post(SEND, {"phone": "+79110000000"}, format="json")
    assert failed.status_code == 503
    assert OPTIONS["EXOLVE_API_KEY"] not in failed.content.decode()

    retried = api_client.post(SEND, {"phone": "+79110000000"}, format="json")
    assert retried.status_code == 200, retried.content
    assert len(fake.requests) == 2


def test_sign_in_with_the_code_twilio_delivered(settings, provider, monkeypatch, api_client):
    settings.PHONE_AUTH_SMS_BACKEND = "twilio"
    settings.PHONE_AUTH_SMS_OPTIONS = OPTIONS
    fake = provider(lambda request: httpx.Response(201, json={"sid": "SM1", "status": "queued"}))
    monkeypatch.setattr(TwilioSmsBackend, "transport", fake.transport)

    sent = api_client.post(SEND, {"phone": "8 (911) 000-00-00"}, format="json")
    assert sent.status_code == 200, sent.content
    (request,) = fake.requests
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form["To"] == "+79110000000"
    code = "".join(ch for ch in form["Body"] if ch.isdigit())

    verified = api_client.post(
        "/api/v1/auth/verify-code/", {"phone": "+79110000000", "code": code}, format="json"
    )
    assert verified.status_code == 200, verified.content
    assert json.loads(verified.content)["is_new_user"] is True


def test_system_check_names_missing_credentials_of_the_selected_provider(settings):
    settings.PHONE_AUTH_SMS_BACKEND = "smsaero"
    settings.PHONE_AUTH_SMS_OPTIONS = {"SMSAERO_EMAIL": "owner@example.com", "SMSAERO_SIGN": "X"}

    errors = [p for p in check_phone_auth() if isinstance(p, Error)]

    assert [e.id for e in errors] == ["phone_auth.E004"]
    assert "SMSAERO_API_KEY" in errors[0].msg
    assert "owner@example.com" not in errors[0].msg


def test_system_check_accepts_a_configured_provider(settings):
    settings.PHONE_AUTH_SMS_BACKEND = "twilio"
    settings.PHONE_AUTH_SMS_OPTIONS = OPTIONS
    assert not [p for p in check_phone_auth() if isinstance(p, Error)]


SETTING_LIKE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
PROVIDER_KEYS = {
    key
    for backend in (TwilioSmsBackend, SmsAeroSmsBackend, ExolveSmsBackend)
    for key in backend.required_options
}


@pytest.mark.parametrize(
    "overrides",
    [
        {"PHONE_AUTH_SMS_BACKEND": "twilio", "PHONE_AUTH_SMS_OPTIONS": {}},
        {"PHONE_AUTH_SMS_BACKEND": "exolve", "PHONE_AUTH_SMS_OPTIONS": {}},
        {"PHONE_AUTH_SMS_BACKEND": "nope"},
        {"PHONE_AUTH_SMS_BACKEND": "console", "DEBUG": False},
        {"PHONE_AUTH_EXPOSE_CODES": True, "DEBUG": False},
        {"PHONE_AUTH_SMS_DELAY": "soon"},
    ],
)
def test_system_checks_name_the_django_settings_a_host_sets(settings, overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)

    problems = check_phone_auth()

    assert problems
    for problem in problems:
        text = f"{problem.msg} {problem.hint or ''}"
        assert "environment" not in text
        named = set(SETTING_LIKE.findall(text)) - PROVIDER_KEYS - {"DEBUG"}
        assert named, text
        assert all(name.startswith("PHONE_AUTH_") for name in named), text


def test_the_missing_credentials_check_shows_the_options_to_set(settings):
    settings.PHONE_AUTH_SMS_BACKEND = "twilio"
    settings.PHONE_AUTH_SMS_OPTIONS = {"TWILIO_FROM": "+15550000000"}

    (error,) = [p for p in check_phone_auth() if isinstance(p, Error)]

    assert "PHONE_AUTH_SMS_OPTIONS" in error.msg
    assert "TWILIO_ACCOUNT_SID" in error.msg
    assert "TWILIO_AUTH_TOKEN" in error.msg
    assert 'PHONE_AUTH_SMS_OPTIONS = {"TWILIO_ACCOUNT_SID": ' in error.hint
