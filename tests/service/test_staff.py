"""Staff-only routes: ``/api/v1/users/`` (search by phone, paged) and ``/api/v1/users/{id}/``."""

from __future__ import annotations

from tests.service.support import Api
from tests.support import assert_error


def test_anonymous_is_401(api: Api) -> None:
    assert_error(api.get("/api/v1/users/"), 401, "not_authenticated")
    assert_error(api.get("/api/v1/users/1/"), 401, "not_authenticated")


def test_non_staff_is_403(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    own_id = tokens["profile"]["id"]
    assert_error(api.get("/api/v1/users/", token=tokens["access"]), 403, "permission_denied")
    assert_error(api.get("/api/v1/users/1/", token=tokens["access"]), 403, "permission_denied")
    assert_error(
        api.get(f"/api/v1/users/{own_id}/", token=tokens["access"]), 403, "permission_denied"
    )


def test_staff_lists_and_searches_users_by_phone(api: Api, phone: str, staff_access: str) -> None:
    user = api.sign_in(phone)["profile"]
    listing = api.get("/api/v1/users/", token=staff_access)
    assert listing.status_code == 200, listing.text
    page = listing.json()
    assert isinstance(page["results"], list)
    assert "next" in page
    assert page["results"]
    for query in (phone, phone[1:], phone[-7:]):
        found = api.get("/api/v1/users/", params={"search": query}, token=staff_access).json()
        assert [item["id"] for item in found["results"]] == [user["id"]], (query, found)
        assert found["results"][0]["phone"] == phone


def test_staff_reads_one_user(api: Api, phone: str, staff_access: str) -> None:
    user = api.sign_in(phone)["profile"]
    answer = api.get(f"/api/v1/users/{user['id']}/", token=staff_access)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == user["id"]
    assert body["phone"] == phone
    assert body.get("invite_code", user["invite_code"]) == user["invite_code"]
