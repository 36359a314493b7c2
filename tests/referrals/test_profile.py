"""The caller's profile: reading it, editing it, the embedded and paged referral lists and
the paged ledger, always the caller's own data, in a constant number of queries."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.test import override_settings

from referrals.models import PointsEntry, Referral
from referrals.services import invite_activate
from tests.referrals.support import assert_balances_match_ledger, code_of, points_of
from tests.service.support import PROFILE_FIELDS
from tests.support import phone_number

pytestmark = pytest.mark.django_db

PROFILE = "/api/v1/profile/"


def invite_many(inviter, make_user, count):
    """``count`` new users activate ``inviter``'s code, oldest first; their phones."""
    phones = []
    for _ in range(count):
        invitee = make_user()
        invite_activate(user=invitee, code=code_of(inviter))
        phones.append(str(invitee.phone_account.phone))
    return phones


def test_new_profile_has_the_contract_shape(make_user, client_for):
    user = make_user("+79110000042")

    body = client_for(user).get(PROFILE).json()

    assert set(body) == PROFILE_FIELDS
    assert body["id"] == user.pk
    assert body["phone"] == "+79110000042"
    assert body["invite_code"] == code_of(user)
    assert len(body["invite_code"]) == 6
    assert set(body["invite_code"]) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    assert (body["activated_invite_code"], body["inviter_phone"]) == (None, None)
    assert (body["referrals"], body["referrals_count"], body["points"]) == ([], 0, 0)
    assert (body["first_name"], body["last_name"], body["email"]) == ("", "", "")
    assert body["date_joined"].endswith("Z")


def test_anonymous_profile_is_401(api_client):
    for path in (PROFILE, f"{PROFILE}referrals/", f"{PROFILE}points/"):
        response = api_client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_patch_edits_name_and_email(make_user, client_for):
    user = make_user()
    client = client_for(user)

    response = client.patch(
        PROFILE,
        {"first_name": "Anna", "last_name": "Ivanova", "email": "anna@example.com"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["first_name"], body["last_name"], body["email"]) == (
        "Anna",
        "Ivanova",
        "anna@example.com",
    )
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == ("Anna", "Ivanova", "anna@example.com")
    partial = client.patch(PROFILE, {"last_name": ""}, format="json").json()
    assert (partial["first_name"], partial["last_name"]) == ("Anna", "")


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_patch_with_invalid_email_is_invalid_input(make_user, client_for, email):
    user = make_user(email="old@example.com")

    response = client_for(user).patch(PROFILE, {"email": email, "first_name": "X"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert "email" in response.json()["fields"]
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("old@example.com", "")


def test_patch_activated_invite_code_activates_like_post(make_user, client_for):
    inviter, user = make_user(), make_user()

    response = client_for(user).patch(
        PROFILE,
        {"activated_invite_code": f" {code_of(inviter).lower()} ", "first_name": "Boris"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["activated_invite_code"] == code_of(inviter)
    assert body["inviter_phone"] == str(inviter.phone_account.phone)
    assert (body["points"], body["first_name"]) == (100, "Boris")
    assert points_of(inviter) == 200
    assert PointsEntry.objects.count() == 2
    assert_balances_match_ledger()


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [("ZZZZZZ", 404, "invite_code_not_found"), ("own", 400, "own_invite_code")],
)
def test_patch_with_a_refused_code_changes_nothing(make_user, client_for, code, status, error):
    user = make_user()
    client = client_for(user)
    before = client.get(PROFILE).json()

    response = client.patch(
        PROFILE,
        {"activated_invite_code": code_of(user) if code == "own" else code, "first_name": "New"},
        format="json",
    )

    assert response.status_code == status
    assert response.json()["code"] == error
    assert client.get(PROFILE).json() == before


def test_patch_after_activation_is_409_like_post(make_user, client_for):
    first, second, user = make_user(), make_user(), make_user()
    client = client_for(user)
    client.patch(PROFILE, {"activated_invite_code": code_of(first)}, format="json")

    response = client.patch(PROFILE, {"activated_invite_code": code_of(second)}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "invite_already_activated"


def test_patch_cycle_is_refused_like_post(make_user, client_for):
    a, b = make_user(), make_user()
    client_for(b).patch(PROFILE, {"activated_invite_code": code_of(a)}, format="json")

    response = client_for(a).patch(PROFILE, {"activated_invite_code": code_of(b)}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invite_cycle"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "+79119999999"),
        ("invite_code", "ABCDEF"),
        ("points", 1000),
        ("id", 1),
        ("is_staff", True),
        ("inviter_phone", "+79119999999"),
        ("referrals", ["+79119999999"]),
        ("referrals_count", 5),
        ("date_joined", "2020-01-01T00:00:00Z"),
        ("unknown", "x"),
    ],
)
def test_patch_of_any_other_field_is_invalid_input_and_changes_nothing(
    make_user, client_for, field, value
):
    user = make_user()
    client = client_for(user)
    before = client.get(PROFILE).json()

    response = client.patch(PROFILE, {field: value, "first_name": "Changed"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert list(body["fields"]) == [field]
    assert client.get(PROFILE).json() == before
    user.refresh_from_db()
    assert not user.is_staff


@pytest.mark.parametrize("payload", [[], "text", 5])
def test_patch_with_a_non_object_body_is_invalid_input(make_user, client_for, payload):
    response = client_for(make_user()).patch(PROFILE, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"


@override_settings(REFERRALS_PROFILE_REFERRALS_LIMIT=3)
def test_embedded_referrals_are_the_newest_capped_and_counted_in_full(make_user, client_for):
    inviter = make_user()
    phones = invite_many(inviter, make_user, 5)

    body = client_for(inviter).get(PROFILE).json()

    assert body["referrals"] == list(reversed(phones))[:3]
    assert body["referrals_count"] == 5
    assert body["points"] == 5 * 200


def test_embedded_referrals_default_to_one_hundred(make_user, client_for):
    inviter = make_user()
    phones = invite_many(inviter, make_user, 101)

    body = client_for(inviter).get(PROFILE).json()

    assert body["referrals"] == list(reversed(phones))[:100]
    assert body["referrals_count"] == 101


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_referrals_are_cursor_paged_newest_first(make_user, client_for):
    inviter, other = make_user(), make_user()
    phones = invite_many(inviter, make_user, 5)
    invite_many(other, make_user, 2)
    client = client_for(inviter)

    first = page(client, "/api/v1/profile/referrals/?page_size=2")
    second = page(client, first["next"])
    third = page(client, second["next"])

    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None
    assert parse_qs(urlparse(first["next"]).query)["page_size"] == ["2"]
    seen = [item["phone"] for p in (first, second, third) for item in p["results"]]
    assert seen == list(reversed(phones))
    assert third["next"] is None
    assert [i["phone"] for i in page(client, second["previous"])["results"]] == seen[:2]
    assert all(item["activated_at"].endswith("Z") for item in first["results"])


def test_points_are_cursor_paged_and_only_the_callers(make_user, client_for):
    inviter, stranger = make_user(), make_user()
    phones = invite_many(inviter, make_user, 3)
    invite_many(stranger, make_user, 2)
    client = client_for(inviter)

    first = page(client, "/api/v1/profile/points/?page_size=2")
    second = page(client, first["next"])

    results = first["results"] + second["results"]
    assert [(e["amount"], e["reason"], e["phone"]) for e in results] == [
        (200, "referral_inviter", phone) for phone in reversed(phones)
    ]
    assert second["next"] is None
    assert second["previous"]
    assert sum(e["amount"] for e in results) == client.get(PROFILE).json()["points"]


def test_page_size_over_the_maximum_is_refused(make_user, client_for):
    inviter = make_user()
    invite_many(inviter, make_user, 3)

    response = client_for(inviter).get("/api/v1/profile/referrals/?page_size=100000")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["page_size"]


@pytest.mark.parametrize("count", [0, 150])
def test_profile_read_uses_a_constant_number_of_queries(
    make_user, client_for, django_assert_max_num_queries, count
):
    inviter = make_user()
    grand_inviter = make_user()
    invite_activate(user=inviter, code=code_of(grand_inviter))
    invite_many(inviter, make_user, count)
    client = client_for(inviter)

    # One statement checks the login and reads the whole profile.
    with django_assert_max_num_queries(1):
        body = client.get(PROFILE).json()

    assert body["referrals_count"] == count
    assert len(body["referrals"]) == min(count, 100)
    assert body["inviter_phone"] == str(grand_inviter.phone_account.phone)


@pytest.mark.parametrize("path", ["referrals/", "points/"])
def test_paged_lists_use_a_constant_number_of_queries(
    make_user, client_for, django_assert_max_num_queries, path
):
    inviter = make_user()
    invite_many(inviter, make_user, 30)
    client = client_for(inviter)

    with django_assert_max_num_queries(2):
        body = client.get(f"{PROFILE}{path}?page_size=30").json()

    assert len(body["results"]) == 30
    assert all(item["phone"] for item in body["results"])


def test_no_route_shows_another_users_data(make_user, client_for):
    victim, victim_referral, attacker = make_user(), make_user(), make_user()
    invite_activate(user=victim_referral, code=code_of(victim))
    client = client_for(attacker)
    victim_phone = str(victim.phone_account.phone)

    bodies = [
        client.get(f"{PROFILE}?id={victim.pk}").json(),
        client.get(f"{PROFILE}?user={victim.pk}&phone={victim_phone}").json(),
        client.get(f"{PROFILE}referrals/?user={victim.pk}").json(),
        client.get(f"{PROFILE}points/?user_id={victim.pk}").json(),
    ]

    assert bodies[0]["id"] == bodies[1]["id"] == attacker.pk
    assert bodies[0]["referrals"] == []
    assert bodies[2]["results"] == bodies[3]["results"] == []
    assert client.get(f"/api/v1/users/{victim.pk}/").status_code == 403
    assert client.get(f"/api/v1/profile/{victim.pk}/").status_code == 404
    assert Referral.objects.filter(inviter=victim).count() == 1


def test_phone_numbers_are_returned_in_e164(make_user, client_for):
    inviter = make_user(phone_number(77))
    invitee = make_user()

    body = (
        client_for(invitee)
        .patch(PROFILE, {"activated_invite_code": code_of(inviter)}, format="json")
        .json()
    )

    assert body["inviter_phone"] == "+79110000077"
