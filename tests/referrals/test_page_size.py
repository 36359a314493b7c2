"""``?page_size=`` of the paged lists: a whole number from 1 to 200, anything else is 400."""

from __future__ import annotations

import pytest

from tests.referrals.test_profile import invite_many

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/profile/referrals/", "/api/v1/profile/points/", "/api/v1/users/"]


@pytest.fixture
def staff_inviter(make_user):
    user = make_user()
    user.is_staff = True
    user.save()
    invite_many(user, make_user, 3)
    return user


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("value", ["abc", "-1", "0", "201", "100000", "1.5", "", "٣", "9" * 40])
def test_a_page_size_out_of_range_is_invalid_input(client_for, staff_inviter, path, value):
    response = client_for(staff_inviter).get(path, {"page_size": value})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input"
    assert list(body["fields"]) == ["page_size"]
    assert "200" in body["fields"]["page_size"][0]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("2", 2), ("200", 4), (" 3 ", 3)])
def test_a_page_size_in_range_is_used(client_for, staff_inviter, path, value, expected):
    response = client_for(staff_inviter).get(path, {"page_size": value})

    assert response.status_code == 200, response.content
    # The staff list holds the inviter too: four users; the others hold three entries.
    results = response.json()["results"]
    assert len(results) == min(expected, 4 if path.endswith("users/") else 3)


def test_the_message_is_translated(client_for, staff_inviter):
    response = client_for(staff_inviter).get(
        LISTS[0], {"page_size": "0"}, HTTP_ACCEPT_LANGUAGE="ru"
    )

    assert response.status_code == 400
    assert "200" in response.json()["fields"]["page_size"][0]
    assert any("\u0400" <= ch <= "\u04ff" for ch in response.json()["fields"]["page_size"][0])
