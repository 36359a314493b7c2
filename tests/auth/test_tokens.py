"""JWT sessions: access, refresh rotation and replay, logout, claims."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import jwt
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from phone_auth import tokens
from phone_auth.models import LoginSession
from tests.auth.support import LOGOUT, LOGOUT_ALL, PROFILE, REFRESH, refresh
from tests.support import assert_error, bearer

pytestmark = pytest.mark.django_db

PHONE = "+79110000000"
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def claims(token: str) -> dict:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def forged(token: str, **changes: object) -> str:
    """``token`` with its claims changed, signed with the service's own key."""
    payload = {**claims(token), **changes}
    for name in [name for name, value in changes.items() if value is None]:
        del payload[name]
    return tokens.token_backend().encode(payload)


def profile_status(access: str) -> int:
    return int(bearer(access).get(PROFILE).status_code)


def test_the_access_token_opens_the_profile(sign_in):
    signed_in = sign_in(PHONE)

    response = bearer(signed_in["access"]).get(PROFILE)

    assert response.status_code == 200
    assert response.json()["phone"] == PHONE


def test_tokens_carry_issuer_audience_and_session(sign_in):
    signed_in = sign_in(PHONE)

    for token in (signed_in["access"], signed_in["refresh"]):
        payload = claims(token)
        assert payload["iss"] == settings.SIMPLE_JWT["ISSUER"]
        assert payload["aud"] == settings.SIMPLE_JWT["AUDIENCE"]
        assert uuid.UUID(payload["sid"]) == LoginSession.objects.get().id
        assert str(payload["user_id"]) == str(signed_in["profile"]["id"])
    assert claims(signed_in["access"])["token_type"] == "access"
    assert claims(signed_in["refresh"])["token_type"] == "refresh"
    lifetime = claims(signed_in["access"])["exp"] - claims(signed_in["access"])["iat"]
    assert lifetime == signed_in["expires_in"] == 300


@pytest.mark.parametrize("claim", ["aud", "iss"])
def test_a_token_for_another_audience_or_issuer_is_refused(sign_in, claim):
    access = sign_in(PHONE)["access"]
    payload = {**claims(access), claim: "someone-else"}
    foreign = jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")

    assert_error(bearer(foreign).get(PROFILE), 401, "token_not_valid")
    assert profile_status(access) == 200


def test_a_token_signed_with_another_key_is_refused(sign_in):
    access = sign_in(PHONE)["access"]
    foreign = jwt.encode(claims(access), "another-key-of-at-least-32-bytes!!", algorithm="HS256")

    assert_error(bearer(foreign).get(PROFILE), 401, "token_not_valid")


def test_an_expired_access_token(sign_in, time_machine):
    time_machine.move_to(START, tick=False)
    access = sign_in(PHONE)["access"]
    time_machine.shift(299)
    assert profile_status(access) == 200

    time_machine.shift(2)

    assert_error(bearer(access).get(PROFILE), 401, "token_not_valid")


def test_no_token(api_client):
    response = api_client.get(PROFILE)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Token abc"])
def test_a_malformed_authorization_header(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(PROFILE)

    assert response.status_code == 401
    assert response.json()["code"] in {"token_not_valid", "not_authenticated"}


# --- Refresh ---------------------------------------------------------------------------------


def test_refresh_rotates_the_pair(sign_in, api_client):
    signed_in = sign_in(PHONE)

    rotated = refresh(api_client, signed_in["refresh"])

    assert rotated.status_code == 200, rotated.content
    pair = rotated.json()
    assert set(pair) == {"access", "refresh"}
    assert pair["refresh"] != signed_in["refresh"]
    assert claims(pair["refresh"])["sid"] == claims(signed_in["refresh"])["sid"]
    assert profile_status(pair["access"]) == 200
    assert refresh(api_client, pair["refresh"]).status_code == 200


def test_a_replay_inside_the_grace_period_keeps_the_winner(sign_in, api_client, time_machine):
    time_machine.move_to(START, tick=False)
    old = sign_in(PHONE)["refresh"]
    winner = refresh(api_client, old).json()
    time_machine.shift(10)

    assert_error(refresh(api_client, old), 401, "token_not_valid")

    assert profile_status(winner["access"]) == 200
    assert refresh(api_client, winner["refresh"]).status_code == 200
    assert LoginSession.objects.get().revoked_at is None


def test_a_replay_after_the_grace_period_revokes_the_login(sign_in, api_client, time_machine):
    time_machine.move_to(START, tick=False)
    old = sign_in(PHONE)["refresh"]
    winner = refresh(api_client, old).json()
    time_machine.shift(11)

    assert_error(refresh(api_client, old), 401, "token_not_valid")

    assert_error(bearer(winner["access"]).get(PROFILE), 401, "token_not_valid")
    assert_error(refresh(api_client, winner["refresh"]), 401, "token_not_valid")
    session = LoginSession.objects.get()
    assert session.revoked_at is not None
    assert session.revoke_reason == "refresh_reuse"


def test_a_theft_revokes_only_that_login(sign_in, api_client, time_machine):
    time_machine.move_to(START, tick=False)
    stolen = sign_in(PHONE)["refresh"]
    other_login = sign_in(PHONE)
    refresh(api_client, stolen)
    time_machine.shift(60)

    refresh(api_client, stolen)

    assert profile_status(other_login["access"]) == 200


def test_an_access_token_is_not_a_refresh_token(sign_in, api_client):
    signed_in = sign_in(PHONE)

    assert_error(refresh(api_client, signed_in["access"]), 401, "token_not_valid")
    assert_error(bearer(signed_in["refresh"]).get(PROFILE), 401, "token_not_valid")


@pytest.mark.parametrize(
    "changes",
    [
        {"sid": None},
        {"sid": "not-a-uuid"},
        {"sid": str(uuid.uuid4())},
        {"jti": None},
        {"jti": "never-issued"},
    ],
    ids=["no-sid", "bad-sid", "unknown-sid", "no-jti", "unknown-jti"],
)
def test_a_refresh_token_not_issued_by_a_login_is_refused(sign_in, api_client, changes):
    genuine = sign_in(PHONE)["refresh"]

    assert_error(refresh(api_client, forged(genuine, **changes)), 401, "token_not_valid")
    assert refresh(api_client, genuine).status_code == 200


@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": None}, {"refresh": ["x"]}])
def test_a_refresh_body_must_hold_a_token(api_client, body):
    assert_error(api_client.post(REFRESH, body, format="json"), 400, "invalid_input")


def test_a_garbage_refresh_token(api_client):
    assert_error(refresh(api_client, "garbage"), 401, "token_not_valid")


def test_unknown_fields_in_a_refresh_body(sign_in, api_client):
    genuine = sign_in(PHONE)["refresh"]
    response = api_client.post(REFRESH, {"refresh": genuine, "user": 1}, format="json")

    body = assert_error(response, 400, "invalid_input")
    assert list(body["fields"]) == ["user"]


def test_a_deactivated_user_loses_access_and_refresh(sign_in, api_client):
    signed_in = sign_in(PHONE)
    get_user_model().objects.update(is_active=False)

    assert_error(bearer(signed_in["access"]).get(PROFILE), 401, "token_not_valid")
    assert_error(refresh(api_client, signed_in["refresh"]), 401, "token_not_valid")


@pytest.mark.parametrize(
    "changes",
    [{"sid": "not-a-uuid"}, {"sid": str(uuid.uuid4())}, {"user_id": 10**9}],
    ids=["bad-sid", "unknown-sid", "other-user"],
)
def test_an_access_token_must_match_an_open_login(sign_in, changes):
    access = sign_in(PHONE)["access"]

    assert_error(bearer(forged(access, **changes)).get(PROFILE), 401, "token_not_valid")


# --- Logout ----------------------------------------------------------------------------------


def test_logout_ends_that_login_at_once(sign_in, api_client):
    this_login = sign_in(PHONE)
    other_login = sign_in(PHONE)

    response = bearer(this_login["access"]).post(
        LOGOUT, {"refresh": this_login["refresh"]}, format="json"
    )

    assert response.status_code == 204
    assert response.content == b""
    assert_error(bearer(this_login["access"]).get(PROFILE), 401, "token_not_valid")
    assert_error(refresh(api_client, this_login["refresh"]), 401, "token_not_valid")
    assert profile_status(other_login["access"]) == 200
    assert refresh(api_client, other_login["refresh"]).status_code == 200


def test_logout_ends_the_whole_family_of_a_rotated_login(sign_in, api_client):
    first = sign_in(PHONE)
    rotated = refresh(api_client, first["refresh"]).json()

    bearer(rotated["access"]).post(LOGOUT, {"refresh": first["refresh"]}, format="json")

    assert profile_status(rotated["access"]) == 401
    assert refresh(api_client, rotated["refresh"]).status_code == 401


def test_logout_with_someone_elses_refresh_token(sign_in, api_client):
    mine = sign_in(PHONE)
    theirs = sign_in("+79110000009")

    response = bearer(mine["access"]).post(LOGOUT, {"refresh": theirs["refresh"]}, format="json")

    assert_error(response, 401, "token_not_valid")
    assert profile_status(theirs["access"]) == 200
    assert profile_status(mine["access"]) == 200


def test_logout_needs_a_signed_in_caller(sign_in, api_client):
    signed_in = sign_in(PHONE)

    response = api_client.post(LOGOUT, {"refresh": signed_in["refresh"]}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert profile_status(signed_in["access"]) == 200


def test_logout_needs_the_refresh_token(sign_in):
    access = sign_in(PHONE)["access"]

    body = assert_error(bearer(access).post(LOGOUT, {}, format="json"), 400, "invalid_input")
    assert list(body["fields"]) == ["refresh"]


def test_logout_all_ends_every_login(sign_in, api_client):
    logins = [sign_in(PHONE) for _ in range(3)]
    someone_else = sign_in("+79110000009")

    response = bearer(logins[0]["access"]).post(LOGOUT_ALL)

    assert response.status_code == 204
    for login in logins:
        assert profile_status(login["access"]) == 401
        assert refresh(api_client, login["refresh"]).status_code == 401
    assert profile_status(someone_else["access"]) == 200
    assert LoginSession.objects.filter(revoked_at__isnull=True).count() == 1


def test_logout_all_refuses_a_body_with_fields(sign_in):
    access = sign_in(PHONE)["access"]

    response = bearer(access).post(LOGOUT_ALL, {"everyone": True}, format="json")

    assert_error(response, 400, "invalid_input")
    assert profile_status(access) == 200


def test_logout_all_needs_a_signed_in_caller(api_client):
    assert_error(api_client.post(LOGOUT_ALL), 401, "not_authenticated")
