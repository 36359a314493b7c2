"""``GET`` and ``PATCH /api/v1/profile/``: the caller's own profile, its writable fields,
and the refusal of everything else in a write body.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.support import (
    PROFILE_FIELDS,
    Api,
    assert_invalid_input,
    assert_utc_timestamp,
    new_phone,
)
from tests.support import assert_error

READ_ONLY = {
    "id": 1,
    "phone": "+79110000009",
    "invite_code": "ABCDEF",
    "inviter_phone": "+79110000008",
    "referrals": ["+79110000007"],
    "referrals_count": 5,
    "points": 1000,
    "date_joined": "2020-01-01T00:00:00Z",
}


def test_profile_needs_authentication(api: Api) -> None:
    assert_error(api.get("/api/v1/profile/"), 401, "not_authenticated")
    assert_error(api.patch("/api/v1/profile/", {"first_name": "A"}), 401, "not_authenticated")


def test_profile_fields_of_a_new_user(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    answer = api.get("/api/v1/profile/", token=tokens["access"])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    profile = answer.json()
    assert set(profile) >= PROFILE_FIELDS
    assert profile["id"] == tokens["profile"]["id"]
    assert profile["phone"] == phone
    assert profile["activated_invite_code"] is None
    assert profile["inviter_phone"] is None
    assert profile["referrals"] == []
    assert profile["referrals_count"] == 0
    assert profile["points"] == 0
    assert (profile["first_name"], profile["last_name"], profile["email"]) == ("", "", "")
    assert_utc_timestamp(profile["date_joined"])


def test_patch_writes_names_and_email_and_answers_the_whole_profile(api: Api, phone: str) -> None:
    access = api.sign_in(phone)["access"]
    before = api.profile(access)
    answer = api.patch(
        "/api/v1/profile/",
        {"first_name": "Anna", "last_name": "Ivanova", "email": "anna@example.com"},
        token=access,
    )
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert set(after) >= PROFILE_FIELDS
    assert (after["first_name"], after["last_name"], after["email"]) == (
        "Anna",
        "Ivanova",
        "anna@example.com",
    )
    unchanged = {
        key: value
        for key, value in after.items()
        if key not in {"first_name", "last_name", "email"}
    }
    assert unchanged == {
        key: value
        for key, value in before.items()
        if key not in {"first_name", "last_name", "email"}
    }
    assert api.profile(access) == after


def test_patch_one_field_keeps_the_others(api: Api, phone: str) -> None:
    access = api.sign_in(phone)["access"]
    api.patch("/api/v1/profile/", {"first_name": "Anna", "email": "a@example.com"}, token=access)
    answer = api.patch("/api/v1/profile/", {"last_name": "Petrova"}, token=access)
    assert answer.status_code == 200, answer.text
    profile = answer.json()
    assert (profile["first_name"], profile["last_name"], profile["email"]) == (
        "Anna",
        "Petrova",
        "a@example.com",
    )


def test_patch_can_clear_names(api: Api, phone: str) -> None:
    access = api.sign_in(phone)["access"]
    api.patch("/api/v1/profile/", {"first_name": "Anna", "email": "a@example.com"}, token=access)
    answer = api.patch("/api/v1/profile/", {"first_name": "", "email": ""}, token=access)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["first_name"], answer.json()["email"]) == ("", "")


def test_patch_with_a_bad_email_is_invalid_input(api: Api, phone: str) -> None:
    access = api.sign_in(phone)["access"]
    assert_invalid_input(api.patch("/api/v1/profile/", {"email": "nope"}, token=access), "email")
    assert api.profile(access)["email"] == ""


@pytest.mark.parametrize(("name", "value"), sorted(READ_ONLY.items()))
def test_patch_of_any_other_field_is_invalid_input(
    api: Api, phone: str, name: str, value: Any
) -> None:
    access = api.sign_in(phone)["access"]
    before = api.profile(access)
    answer = api.patch("/api/v1/profile/", {name: value, "first_name": "Changed"}, token=access)
    body = assert_invalid_input(answer)
    assert name in body["fields"] or name in str(body), body
    assert api.profile(access) == before


@pytest.mark.parametrize("name", ["phone", "invite_code", "id"])
def test_patch_of_a_read_only_field_with_its_own_value_is_still_invalid_input(
    api: Api, phone: str, name: str
) -> None:
    access = api.sign_in(phone)["access"]
    before = api.profile(access)
    assert_invalid_input(api.patch("/api/v1/profile/", {name: before[name]}, token=access))


@pytest.mark.parametrize("name", ["is_staff", "is_superuser", "password", "username", "user"])
def test_patch_of_unknown_or_hidden_fields_is_invalid_input(
    api: Api, phone: str, name: str
) -> None:
    access = api.sign_in(phone)["access"]
    assert_invalid_input(api.patch("/api/v1/profile/", {name: True}, token=access))
    assert_error(api.get("/api/v1/users/", token=access), 403, "permission_denied")


def test_profile_is_the_callers_own(api: Api, phone: str) -> None:
    mine = api.sign_in(phone)
    theirs = api.sign_in(new_phone())
    assert api.profile(mine["access"])["phone"] == phone
    api.patch("/api/v1/profile/", {"first_name": "Mine"}, token=mine["access"])
    assert api.profile(theirs["access"])["first_name"] == ""
