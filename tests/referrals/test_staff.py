"""The staff routes ``/api/v1/users/``: staff only, searchable by phone, paged."""

from __future__ import annotations

import pytest

from referrals.services import invite_activate
from tests.referrals.support import code_of

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"


@pytest.fixture
def staff_client(make_user, client_for):
    return client_for(make_user("+79990000001", is_staff=True))


@pytest.mark.parametrize("path", [USERS, f"{USERS}1/"])
def test_anonymous_is_401(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("path", [USERS, f"{USERS}?search=911", "detail"])
def test_non_staff_is_403(make_user, client_for, path):
    user = make_user()

    response = client_for(user).get(f"{USERS}{user.pk}/" if path == "detail" else path)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_staff_list_shows_every_user_with_phone_code_points_and_referrals(make_user, staff_client):
    inviter, invitee = make_user("+79110000010"), make_user("+79110000011")
    invite_activate(user=invitee, code=code_of(inviter))

    response = staff_client.get(USERS)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    rows = {row["phone"]: row for row in body["results"]}
    assert rows["+79110000010"] == {
        "id": inviter.pk,
        "phone": "+79110000010",
        "invite_code": code_of(inviter),
        "points": 200,
        "referrals_count": 1,
        "is_staff": False,
        "is_active": True,
        "date_joined": rows["+79110000010"]["date_joined"],
    }
    assert (rows["+79110000011"]["points"], rows["+79110000011"]["referrals_count"]) == (100, 0)
    assert rows["+79990000001"]["is_staff"] is True


@pytest.mark.parametrize("search", ["0000011", "+79110000011", "+7 911 000-00-11", "8911000001"])
def test_staff_search_by_phone(make_user, staff_client, search):
    make_user("+79110000010")
    make_user("+79110000011")
    make_user("+79120000011")

    body = staff_client.get(USERS, {"search": search}).json()

    phones = sorted(row["phone"] for row in body["results"])
    expected = {
        "0000011": ["+79110000011", "+79120000011"],
        "+79110000011": ["+79110000011"],
        "+7 911 000-00-11": ["+79110000011"],
        "8911000001": [],  # digits are matched as typed, not re-read in the default region
    }[search]
    assert phones == expected
    assert body["count"] == len(expected)


def test_staff_list_is_paged(make_user, staff_client):
    for _ in range(5):
        make_user()

    first = staff_client.get(USERS, {"page_size": 2}).json()
    last = staff_client.get(USERS, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 6
    assert len(first["results"]) == 2
    assert first["next"]
    assert first["previous"] is None
    assert len(last["results"]) == 2
    assert last["next"] is None


def test_staff_detail_and_unknown_id(make_user, staff_client):
    user = make_user("+79110000020")

    found = staff_client.get(f"{USERS}{user.pk}/")
    missing = staff_client.get(f"{USERS}{user.pk + 1000}/")

    assert found.status_code == 200
    assert (found.json()["id"], found.json()["phone"]) == (user.pk, "+79110000020")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_staff_routes_are_read_only(make_user, staff_client):
    user = make_user()

    responses = [
        staff_client.post(USERS, {}, format="json"),
        staff_client.patch(f"{USERS}{user.pk}/", {"is_staff": True}, format="json"),
        staff_client.delete(f"{USERS}{user.pk}/"),
    ]

    assert [r.status_code for r in responses] == [405, 405, 405]
    assert all(r.json()["code"] == "method_not_allowed" for r in responses)
