"""Invite-code activation (``POST /profile/invite/`` and ``PATCH activated_invite_code``):
the bonuses and the ledger, every refusal, and parallel requests.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.service.conftest import SHORT_INVITEE_BONUS, SHORT_INVITER_BONUS
from tests.service.support import (
    INVITE_ALPHABET,
    PROFILE_FIELDS,
    Api,
    Service,
    assert_invalid_input,
    assert_utc_timestamp,
    in_parallel,
    new_phone,
)
from tests.support import assert_error


def _user(api: Api) -> dict[str, Any]:
    """A new signed-in user: its verify answer plus ``phone`` and ``code`` for short."""
    tokens = api.sign_in(new_phone())
    tokens["phone"] = tokens["profile"]["phone"]
    tokens["code"] = tokens["profile"]["invite_code"]
    return tokens


def _unknown_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(6))


def _ledger(api: Api, access: str) -> list[dict[str, Any]]:
    return [
        item for page in api.pages("/api/v1/profile/points/", access) for item in page["results"]
    ]


def _activate(api: Api, user: dict[str, Any], code: str, via: str) -> Any:
    if via == "post":
        return api.activate(user["access"], code)
    return api.patch("/api/v1/profile/", {"activated_invite_code": code}, token=user["access"])


@pytest.fixture(params=["post", "patch"])
def via(request: pytest.FixtureRequest) -> str:
    """Both ways to activate a code."""
    return str(request.param)


def test_activation_awards_both_sides(api: Api, via: str) -> None:
    inviter, invitee = _user(api), _user(api)
    answer = _activate(api, invitee, f"  {inviter['code'].lower()} ", via)
    assert answer.status_code == 200, answer.text
    profile = answer.json()
    assert set(profile) >= PROFILE_FIELDS
    assert profile["activated_invite_code"] == inviter["code"]
    assert profile["inviter_phone"] == inviter["phone"]
    assert profile["points"] == 100
    assert profile == api.profile(invitee["access"])
    theirs = api.profile(inviter["access"])
    assert theirs["referrals"] == [invitee["phone"]]
    assert theirs["referrals_count"] == 1
    assert theirs["points"] == 200
    assert theirs["activated_invite_code"] is None


def test_bonuses_follow_the_settings(short_api: Api) -> None:
    inviter, invitee = _user(short_api), _user(short_api)
    answer = short_api.activate(invitee["access"], inviter["code"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["points"] == SHORT_INVITEE_BONUS
    assert short_api.profile(inviter["access"])["points"] == SHORT_INVITER_BONUS
    assert [entry["amount"] for entry in _ledger(short_api, inviter["access"])] == [
        SHORT_INVITER_BONUS
    ]


def test_activation_writes_the_ledger(api: Api) -> None:
    inviter, invitee = _user(api), _user(api)
    assert api.activate(invitee["access"], inviter["code"]).status_code == 200
    (inviter_entry,) = _ledger(api, inviter["access"])
    assert inviter_entry["amount"] == 200
    assert inviter_entry["reason"] == "referral_inviter"
    assert inviter_entry["phone"] == invitee["phone"]
    assert_utc_timestamp(inviter_entry["created_at"])
    (invitee_entry,) = _ledger(api, invitee["access"])
    assert invitee_entry["amount"] == 100
    assert isinstance(invitee_entry["reason"], str)
    assert invitee_entry["reason"] != "referral_inviter"
    assert invitee_entry["phone"] == inviter["phone"]
    assert_utc_timestamp(invitee_entry["created_at"])


def test_points_are_the_ledger_sum(api: Api) -> None:
    root, middle = _user(api), _user(api)
    leaves = [_user(api) for _ in range(3)]
    assert api.activate(middle["access"], root["code"]).status_code == 200
    for leaf in leaves:
        assert api.activate(leaf["access"], middle["code"]).status_code == 200
    for user, expected in ((root, 200), (middle, 100 + 3 * 200), (leaves[0], 100)):
        points = api.profile(user["access"])["points"]
        assert points == expected
        assert sum(entry["amount"] for entry in _ledger(api, user["access"])) == points


def test_unknown_code_is_404_invite_code_not_found(api: Api, via: str) -> None:
    user = _user(api)
    body = assert_error(_activate(api, user, _unknown_code(), via), 404, "invite_code_not_found")
    assert body["detail"]
    assert api.profile(user["access"])["activated_invite_code"] is None


def test_not_found_detail_is_localized(api: Api) -> None:
    user = _user(api)
    code = _unknown_code()
    english = assert_error(api.activate(user["access"], code), 404, "invite_code_not_found")
    russian = assert_error(
        api.post(
            "/api/v1/profile/invite/", {"invite_code": code}, token=user["access"], language="ru"
        ),
        404,
        "invite_code_not_found",
    )
    assert english["detail"] != russian["detail"]


@pytest.mark.parametrize("code", ["", "ABC", "ABCDEFG", "AB CDE", "!!!!!!"])
def test_malformed_code_is_refused(api: Api, code: str) -> None:
    user = _user(api)
    answer = api.activate(user["access"], code)
    assert answer.status_code in (400, 404), answer.text
    if answer.status_code == 400:
        assert_invalid_input(answer, "invite_code")
    else:
        assert_error(answer, 404, "invite_code_not_found")


def test_missing_code_is_invalid_input(api: Api) -> None:
    user = _user(api)
    assert_invalid_input(
        api.post("/api/v1/profile/invite/", {}, token=user["access"]), "invite_code"
    )


def test_own_code_is_400_own_invite_code(api: Api, via: str) -> None:
    user = _user(api)
    assert_error(_activate(api, user, user["code"].lower(), via), 400, "own_invite_code")
    assert api.profile(user["access"])["points"] == 0


def test_direct_cycle_is_400_invite_cycle(api: Api, via: str) -> None:
    a, b = _user(api), _user(api)
    assert api.activate(b["access"], a["code"]).status_code == 200
    assert_error(_activate(api, a, b["code"], via), 400, "invite_cycle")
    assert api.profile(a["access"])["points"] == 200


def test_indirect_cycle_is_400_invite_cycle(api: Api, via: str) -> None:
    a, b, c, d = (_user(api) for _ in range(4))
    assert api.activate(b["access"], a["code"]).status_code == 200
    assert api.activate(c["access"], b["code"]).status_code == 200
    assert api.activate(d["access"], c["code"]).status_code == 200
    assert_error(_activate(api, a, c["code"], via), 400, "invite_cycle")
    assert_error(_activate(api, a, d["code"], via), 400, "invite_cycle")
    assert_error(_activate(api, b, d["code"], via), 409, "invite_already_activated")


def test_a_chain_without_a_cycle_is_allowed(api: Api) -> None:
    a, b, c = _user(api), _user(api), _user(api)
    assert api.activate(b["access"], a["code"]).status_code == 200
    assert api.activate(a["access"], c["code"]).status_code == 200  # c is not below a
    assert api.profile(a["access"])["inviter_phone"] == c["phone"]


def test_second_activation_is_409_invite_already_activated(api: Api, via: str) -> None:
    first, second, user = _user(api), _user(api), _user(api)
    assert api.activate(user["access"], first["code"]).status_code == 200
    assert_error(_activate(api, user, second["code"], via), 409, "invite_already_activated")
    assert_error(_activate(api, user, first["code"], via), 409, "invite_already_activated")
    profile = api.profile(user["access"])
    assert profile["activated_invite_code"] == first["code"]
    assert profile["points"] == 100
    assert api.profile(second["access"])["points"] == 0


def test_patch_activation_with_other_fields(api: Api) -> None:
    inviter, user = _user(api), _user(api)
    answer = api.patch(
        "/api/v1/profile/",
        {"first_name": "Anna", "activated_invite_code": f" {inviter['code'].lower()}"},
        token=user["access"],
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["first_name"] == "Anna"
    assert answer.json()["activated_invite_code"] == inviter["code"]
    assert answer.json()["points"] == 100


def test_activation_needs_authentication(api: Api) -> None:
    inviter = _user(api)
    answer = api.post("/api/v1/profile/invite/", {"invite_code": inviter["code"]})
    assert_error(answer, 401, "not_authenticated")


@pytest.mark.usefixtures("same_clock_hour")
def test_repeated_failed_activations_are_rate_limited(api: Api) -> None:
    user = _user(api)
    for _ in range(100):
        answer = api.activate(user["access"], _unknown_code())
        if answer.status_code == 429:
            body = assert_error(answer, 429, "rate_limited")
            assert body["retry_after"] > 0
            return
        assert_error(answer, 404, "invite_code_not_found")
    pytest.fail("100 failed activations in a row were never rate limited")


def test_parallel_activations_of_one_user_award_once(
    api: Api, service: Service, clients: Callable[[Service], Api]
) -> None:
    inviter, user = _user(api), _user(api)
    racers = [clients(service) for _ in range(5)]
    answers = in_parallel(5, lambda i: racers[i].activate(user["access"], inviter["code"]))
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409, 409], [
        answer.text for answer in answers
    ]
    for answer in answers:
        if answer.status_code == 409:
            assert_error(answer, 409, "invite_already_activated")
    assert api.profile(user["access"])["points"] == 100
    assert api.profile(inviter["access"])["points"] == 200
    assert len(_ledger(api, user["access"])) == 1
    assert len(_ledger(api, inviter["access"])) == 1


def test_parallel_activations_of_one_inviter_lose_nothing(
    api: Api, service: Service, clients: Callable[[Service], Api]
) -> None:
    inviter = _user(api)
    invitees = [_user(clients(service)) for _ in range(6)]
    racers = [clients(service) for _ in invitees]
    answers = in_parallel(
        len(racers), lambda i: racers[i].activate(invitees[i]["access"], inviter["code"])
    )
    assert [answer.status_code for answer in answers] == [200] * 6, [a.text for a in answers]
    profile = api.profile(inviter["access"])
    assert profile["points"] == 1200
    assert profile["referrals_count"] == 6
    assert sorted(profile["referrals"]) == sorted(user["phone"] for user in invitees)
    assert len(_ledger(api, inviter["access"])) == 6


def test_parallel_mutual_activations_never_make_a_cycle(
    api: Api, service: Service, clients: Callable[[Service], Api]
) -> None:
    a, b = _user(api), _user(api)
    racers = [clients(service), clients(service)]
    pairs = [(a, b), (b, a)]
    answers = in_parallel(
        2, lambda i: racers[i].activate(pairs[i][0]["access"], pairs[i][1]["code"])
    )
    assert sorted(answer.status_code for answer in answers) == [200, 400], [a.text for a in answers]
    loser = next(answer for answer in answers if answer.status_code == 400)
    assert_error(loser, 400, "invite_cycle")
    points = sorted(api.profile(user["access"])["points"] for user in (a, b))
    assert points == [100, 200]
