"""Refresh rotation and reuse, logout, logout-all, the JWKS, and the claims of tokens."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from tests.service.conftest import SHORT_RESEND_COOLDOWN
from tests.service.support import Api, Service, in_parallel, jwt_part, new_phone
from tests.support import assert_error

TOKEN_ERRORS = ("token_not_valid", "not_authenticated")


def _works(api: Api, access: str) -> bool:
    answer = api.get("/api/v1/profile/", token=access)
    if answer.status_code == 200:
        return True
    assert_error(answer, 401, TOKEN_ERRORS)
    return False


def _two_logins(short_api: Api, phone: str) -> tuple[dict[str, Any], dict[str, Any]]:
    first = short_api.sign_in(phone)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    return first, short_api.sign_in(phone)


def test_refresh_rotates(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    answer = api.refresh(tokens["refresh"])
    assert answer.status_code == 200, answer.text
    fresh = answer.json()
    assert set(fresh) == {"access", "refresh"}
    assert fresh["refresh"] != tokens["refresh"]
    assert fresh["access"] != tokens["access"]
    assert api.profile(fresh["access"])["phone"] == phone
    assert api.refresh(fresh["refresh"]).status_code == 200


def test_replay_inside_the_grace_is_401_and_revokes_nothing(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    fresh = api.refresh(tokens["refresh"]).json()
    assert_error(api.refresh(tokens["refresh"]), 401, TOKEN_ERRORS)
    assert_error(api.refresh(tokens["refresh"]), 401, TOKEN_ERRORS)
    assert _works(api, fresh["access"])
    again = api.refresh(fresh["refresh"])
    assert again.status_code == 200, again.text
    assert _works(api, again.json()["access"])


def test_parallel_refreshes_one_wins_and_its_tokens_keep_working(
    api: Api, service: Service, phone: str, clients: Callable[[Service], Api]
) -> None:
    tokens = api.sign_in(phone)
    racers = [clients(service) for _ in range(5)]
    answers = in_parallel(len(racers), lambda i: racers[i].refresh(tokens["refresh"]))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 401, 401, 401, 401], [answer.text for answer in answers]
    for answer in answers:
        if answer.status_code == 401:
            assert_error(answer, 401, TOKEN_ERRORS)
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert _works(api, winner["access"])
    assert api.refresh(winner["refresh"]).status_code == 200


def test_replay_after_the_grace_revokes_the_login(short_api: Api, phone: str) -> None:
    other, tokens = _two_logins(short_api, phone)
    fresh = short_api.refresh(tokens["refresh"]).json()
    assert _works(short_api, fresh["access"])
    time.sleep(1.2)  # AUTH_REFRESH_REUSE_GRACE=0 on this service
    assert_error(short_api.refresh(tokens["refresh"]), 401, TOKEN_ERRORS)
    assert_error(short_api.refresh(fresh["refresh"]), 401, TOKEN_ERRORS)
    assert not _works(short_api, fresh["access"])
    assert _works(short_api, other["access"])  # another login of the user is not touched
    assert short_api.refresh(other["refresh"]).status_code == 200


def test_access_token_given_as_refresh_is_401(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    assert_error(api.refresh(tokens["access"]), 401, TOKEN_ERRORS)
    assert api.refresh(tokens["refresh"]).status_code == 200


def test_refresh_token_given_as_access_is_401(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    assert not _works(api, tokens["refresh"])


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_refresh_is_401(api: Api, token: str) -> None:
    assert_error(api.refresh(token), 401, TOKEN_ERRORS)


def test_tampered_access_token_is_401(api: Api, phone: str) -> None:
    access = api.sign_in(phone)["access"]
    head, payload, signature = access.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert not _works(api, f"{head}.{payload}.{flipped}")


def test_missing_or_malformed_credentials_are_401(api: Api, phone: str) -> None:
    assert_error(api.get("/api/v1/profile/"), 401, "not_authenticated")
    access = api.sign_in(phone)["access"]
    answer = api.get("/api/v1/profile/", headers={"Authorization": f"Token {access}"})
    assert_error(answer, 401, TOKEN_ERRORS)
    assert_error(api.get("/api/v1/profile/", token="nonsense"), 401, TOKEN_ERRORS)


def test_tokens_carry_iss_and_aud(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    for token in (tokens["access"], tokens["refresh"]):
        claims = jwt_part(token, 1)
        assert isinstance(claims.get("iss"), str), claims
        assert claims["iss"]
        assert claims.get("aud"), claims
        assert isinstance(claims["aud"], str | list), claims
    access, refresh = jwt_part(tokens["access"], 1), jwt_part(tokens["refresh"], 1)
    assert access["iss"] == refresh["iss"]
    assert access["aud"] == refresh["aud"]


def test_jwks_shape_with_hmac_tokens(api: Api) -> None:
    answer = api.get("/.well-known/jwks.json")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    keys = answer.json()["keys"]
    assert isinstance(keys, list)
    for key in keys:
        assert key.get("kid"), key
        assert key.get("kty") in ("RSA", "EC"), key  # never a shared secret


def test_jwks_verifies_rs256_access_tokens(short_api: Api, phone: str) -> None:
    keys = short_api.get("/.well-known/jwks.json").json()["keys"]
    assert keys, "an RS256 service publishes its public key"
    for key in keys:
        assert key.get("kid"), key
        assert key["kty"] == "RSA", key
        assert "d" not in key, "the private exponent must not be published"
    access = short_api.sign_in(phone)["access"]
    header = jwt_part(access, 0)
    assert header["alg"] == "RS256"
    matching = [key for key in keys if key["kid"] == header.get("kid")]
    assert len(matching) == 1, (header, keys)
    claims = jwt_part(access, 1)
    verified = jwt.decode(
        access,
        jwt.PyJWK(matching[0]).key,
        algorithms=["RS256"],
        audience=claims["aud"],
        issuer=claims["iss"],
    )
    assert verified == claims


def test_logout_ends_that_login_only(short_api: Api, phone: str) -> None:
    first, second = _two_logins(short_api, phone)
    answer = short_api.post(
        "/api/v1/auth/logout/", {"refresh": first["refresh"]}, token=first["access"]
    )
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    assert not _works(short_api, first["access"])
    assert_error(short_api.refresh(first["refresh"]), 401, TOKEN_ERRORS)
    assert _works(short_api, second["access"])
    assert short_api.refresh(second["refresh"]).status_code == 200


def test_logout_after_a_refresh_ends_the_rotated_tokens(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    fresh = api.refresh(tokens["refresh"]).json()
    answer = api.post("/api/v1/auth/logout/", {"refresh": fresh["refresh"]}, token=fresh["access"])
    assert answer.status_code == 204, answer.text
    assert not _works(api, fresh["access"])
    assert not _works(api, tokens["access"])
    assert_error(api.refresh(fresh["refresh"]), 401, TOKEN_ERRORS)


def test_logout_needs_authentication(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    answer = api.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]})
    assert_error(answer, 401, "not_authenticated")
    assert_error(api.post("/api/v1/auth/logout-all/"), 401, "not_authenticated")
    assert _works(api, tokens["access"])


def test_logout_without_refresh_is_invalid_input(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    answer = api.post("/api/v1/auth/logout/", {}, token=tokens["access"])
    assert_error(answer, 400, "invalid_input")
    assert "refresh" in answer.json()["fields"]


def test_logout_all_ends_every_login(short_api: Api, phone: str) -> None:
    first, second = _two_logins(short_api, phone)
    answer = short_api.post("/api/v1/auth/logout-all/", token=second["access"])
    assert answer.status_code == 204, answer.text
    assert answer.content == b""
    for tokens in (first, second):
        assert not _works(short_api, tokens["access"])
        assert_error(short_api.refresh(tokens["refresh"]), 401, TOKEN_ERRORS)
    time.sleep(SHORT_RESEND_COOLDOWN + 0.2)
    assert _works(short_api, short_api.sign_in(phone)["access"])


def test_logout_all_leaves_other_users_alone(short_api: Api, phone: str) -> None:
    mine, theirs = short_api.sign_in(phone), short_api.sign_in(new_phone())
    answer = short_api.post("/api/v1/auth/logout-all/", token=mine["access"])
    assert answer.status_code == 204
    assert _works(short_api, theirs["access"])
