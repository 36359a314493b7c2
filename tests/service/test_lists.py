"""The referral list in the profile and the cursor-paged ``/profile/referrals/`` and
``/profile/points/`` lists: order, counts, item fields and paging links.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.service.conftest import SHORT_PROFILE_REFERRALS
from tests.service.support import E164_RU, Api, Service, assert_utc_timestamp, new_phone
from tests.support import assert_error

LISTS = ("/api/v1/profile/referrals/", "/api/v1/profile/points/")


def _inviter_with_referrals(
    api: Api, make_client: Callable[[], Api], count: int
) -> tuple[dict[str, Any], list[str]]:
    """A signed-in user whose code ``count`` others activated one after another."""
    inviter = api.sign_in(new_phone())
    phones = []
    for _ in range(count):
        client = make_client()
        invitee = client.sign_in(new_phone())
        answer = client.activate(invitee["access"], inviter["profile"]["invite_code"])
        assert answer.status_code == 200, answer.text
        phones.append(invitee["profile"]["phone"])
    return inviter, phones


@pytest.fixture
def inviter_of_three(
    api: Api, service: Service, clients: Callable[[Service], Api]
) -> tuple[dict[str, Any], list[str]]:
    return _inviter_with_referrals(api, lambda: clients(service), 3)


@pytest.mark.parametrize("path", LISTS)
def test_lists_need_authentication(api: Api, path: str) -> None:
    assert_error(api.get(path), 401, "not_authenticated")


@pytest.mark.parametrize("path", LISTS)
def test_empty_lists(api: Api, phone: str, path: str) -> None:
    access = api.sign_in(phone)["access"]
    answer = api.get(path, token=access)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"next": None, "previous": None, "results": []}


def test_profile_lists_referrals_newest_first(
    api: Api, inviter_of_three: tuple[dict[str, Any], list[str]]
) -> None:
    inviter, phones = inviter_of_three
    profile = api.profile(inviter["access"])
    assert profile["referrals"] == phones[::-1]
    assert profile["referrals_count"] == 3
    assert profile["points"] == 600


def test_profile_embeds_at_most_the_configured_number_of_referrals(
    short_api: Api, short_service: Service, clients: Callable[[Service], Api]
) -> None:
    inviter, phones = _inviter_with_referrals(short_api, lambda: clients(short_service), 3)
    profile = short_api.profile(inviter["access"])
    assert profile["referrals"] == phones[::-1][:SHORT_PROFILE_REFERRALS]
    assert profile["referrals_count"] == 3
    listed = [
        item["phone"]
        for page in short_api.pages("/api/v1/profile/referrals/", inviter["access"])
        for item in page["results"]
    ]
    assert listed == phones[::-1]


def test_referrals_pages(api: Api, inviter_of_three: tuple[dict[str, Any], list[str]]) -> None:
    inviter, phones = inviter_of_three
    access = inviter["access"]
    first = api.get("/api/v1/profile/referrals/", params={"page_size": 2}, token=access)
    assert first.status_code == 200, first.text
    page = first.json()
    assert set(page) >= {"next", "previous", "results"}
    assert page["previous"] is None
    assert isinstance(page["next"], str)
    assert [item["phone"] for item in page["results"]] == phones[::-1][:2]
    for item in page["results"]:
        assert set(item) >= {"phone", "activated_at"}
        assert E164_RU.fullmatch(item["phone"])
        assert_utc_timestamp(item["activated_at"])
    times = [assert_utc_timestamp(item["activated_at"]) for item in page["results"]]
    assert times == sorted(times, reverse=True)

    second = api.get(page["next"], token=access).json()
    assert [item["phone"] for item in second["results"]] == phones[:1]
    assert second["next"] is None
    assert isinstance(second["previous"], str)
    back = api.get(second["previous"], token=access).json()
    assert [item["phone"] for item in back["results"]] == phones[::-1][:2]


def test_points_pages(api: Api, inviter_of_three: tuple[dict[str, Any], list[str]]) -> None:
    inviter, phones = inviter_of_three
    access = inviter["access"]
    first = api.get("/api/v1/profile/points/", params={"page_size": 2}, token=access).json()
    assert first["previous"] is None
    assert isinstance(first["next"], str)
    entries = list(first["results"])
    second = api.get(first["next"], token=access).json()
    assert second["next"] is None
    assert isinstance(second["previous"], str)
    entries += second["results"]
    assert [entry["phone"] for entry in entries] == phones[::-1]
    for entry in entries:
        assert set(entry) >= {"amount", "reason", "phone", "created_at"}
        assert entry["amount"] == 200
        assert entry["reason"] == "referral_inviter"
    times = [assert_utc_timestamp(entry["created_at"]) for entry in entries]
    assert times == sorted(times, reverse=True)
    assert sum(entry["amount"] for entry in entries) == api.profile(access)["points"]


@pytest.mark.parametrize("path", LISTS)
def test_a_forged_cursor_is_a_json_4xx(api: Api, phone: str, path: str) -> None:
    access = api.sign_in(phone)["access"]
    answer = api.get(path, params={"cursor": "not-a-cursor"}, token=access)
    assert answer.status_code in (400, 404), answer.text
    assert_error(answer, answer.status_code)
