"""Activating an invite code through ``POST /api/v1/profile/invite/``: awards, rules, limits."""

from __future__ import annotations

import pytest
from django.test import override_settings

from referrals.models import PointsEntry, Referral
from tests.live_service import free_port
from tests.referrals.support import assert_balances_match_ledger, code_of, points_of

pytestmark = pytest.mark.django_db

INVITE = "/api/v1/profile/invite/"


def test_activation_links_both_profiles_and_awards_both_sides(make_user, client_for):
    inviter, invitee = make_user(), make_user()
    code = code_of(inviter)

    response = client_for(invitee).post(INVITE, {"invite_code": code}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["activated_invite_code"] == code
    assert body["inviter_phone"] == str(inviter.phone_account.phone)
    assert body["points"] == 100
    inviter_profile = client_for(inviter).get("/api/v1/profile/").json()
    assert inviter_profile["referrals"] == [str(invitee.phone_account.phone)]
    assert inviter_profile["referrals_count"] == 1
    assert inviter_profile["points"] == 200
    assert inviter_profile["activated_invite_code"] is None
    assert inviter_profile["inviter_phone"] is None

    referral = Referral.objects.get(invitee=invitee)
    assert (referral.inviter_id, referral.invite_code) == (inviter.pk, code)
    entries = {
        (entry.user_id, entry.amount, entry.reason) for entry in referral.points_entries.all()
    }
    assert entries == {
        (invitee.pk, 100, PointsEntry.Reason.REFERRAL_INVITEE),
        (inviter.pk, 200, PointsEntry.Reason.REFERRAL_INVITER),
    }
    assert_balances_match_ledger()


def test_each_ledger_entry_names_the_other_side(make_user, client_for):
    inviter, invitee = make_user(), make_user()
    client_for(invitee).post(INVITE, {"invite_code": code_of(inviter)}, format="json")

    invitee_ledger = client_for(invitee).get("/api/v1/profile/points/").json()["results"]
    inviter_ledger = client_for(inviter).get("/api/v1/profile/points/").json()["results"]

    assert [(e["amount"], e["reason"], e["phone"]) for e in invitee_ledger] == [
        (100, "referral_invitee", str(inviter.phone_account.phone))
    ]
    assert [(e["amount"], e["reason"], e["phone"]) for e in inviter_ledger] == [
        (200, "referral_inviter", str(invitee.phone_account.phone))
    ]
    assert invitee_ledger[0]["created_at"].endswith("Z")


@pytest.mark.parametrize("typed", ["lower", "  padded  ", "\tmixed\n"])
def test_code_input_is_case_insensitive_and_trimmed(make_user, client_for, typed):
    inviter, invitee = make_user(), make_user()
    code = code_of(inviter)
    text = {
        "lower": code.lower(),
        "  padded  ": f"  {code}  ",
        "\tmixed\n": f"\t{code[:3].lower()}{code[3:]}\n",
    }[typed]

    response = client_for(invitee).post(INVITE, {"invite_code": text}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["activated_invite_code"] == code


@pytest.mark.parametrize("code", ["ZZZZZZ", "zzzzz1", "ABC", "ABCDEFGHIJ"])
def test_unknown_code_is_404(make_user, client_for, code):
    make_user()
    user = make_user()

    response = client_for(user).post(INVITE, {"invite_code": code}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "invite_code_not_found"
    assert not Referral.objects.exists()
    assert points_of(user) == 0


def test_own_code_is_refused(make_user, client_for):
    user = make_user()

    response = client_for(user).post(INVITE, {"invite_code": code_of(user)}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "own_invite_code"
    assert not Referral.objects.exists()


def test_direct_cycle_is_refused(make_user, client_for):
    a, b = make_user(), make_user()
    assert client_for(b).post(INVITE, {"invite_code": code_of(a)}, format="json").status_code == 200

    response = client_for(a).post(INVITE, {"invite_code": code_of(b)}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invite_cycle"
    assert Referral.objects.count() == 1
    assert (points_of(a), points_of(b)) == (200, 100)


def test_longer_chain_cycle_is_refused_at_every_depth(make_user, client_for):
    a, b, c, d = make_user(), make_user(), make_user(), make_user()
    for invitee, inviter in ((b, a), (c, b), (d, c)):  # a invited b, b invited c, c invited d
        response = client_for(invitee).post(
            INVITE, {"invite_code": code_of(inviter)}, format="json"
        )
        assert response.status_code == 200

    for descendant in (b, c, d):
        response = client_for(a).post(INVITE, {"invite_code": code_of(descendant)}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "invite_cycle"
    assert Referral.objects.count() == 3
    assert_balances_match_ledger()


def test_a_user_outside_the_chain_can_still_invite_the_root(make_user, client_for):
    a, b, outsider = make_user(), make_user(), make_user()
    client_for(b).post(INVITE, {"invite_code": code_of(a)}, format="json")

    response = client_for(a).post(INVITE, {"invite_code": code_of(outsider)}, format="json")

    assert response.status_code == 200
    assert response.json()["inviter_phone"] == str(outsider.phone_account.phone)


def test_second_activation_is_409_whatever_the_code(make_user, client_for):
    first, second, user = make_user(), make_user(), make_user()
    client = client_for(user)
    assert client.post(INVITE, {"invite_code": code_of(first)}, format="json").status_code == 200

    for code in (code_of(second), code_of(first), "ZZZZZZ"):
        response = client.post(INVITE, {"invite_code": code}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "invite_already_activated"
    assert Referral.objects.get(invitee=user).inviter_id == first.pk
    assert points_of(user) == 100
    assert points_of(second) == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"invite_code": ""},
        {"invite_code": "   "},
        {"invite_code": None},
        {"invite_code": 123456},
        {"invite_code": "A" * 33},
        {"invite_code": "ABCDEF", "extra": 1},
    ],
)
def test_malformed_body_is_invalid_input(make_user, client_for, body):
    response = client_for(make_user()).post(INVITE, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert response.json()["fields"]


def test_anonymous_activation_is_401(make_user, api_client):
    response = api_client.post(INVITE, {"invite_code": code_of(make_user())}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@override_settings(REFERRALS_FAILED_ACTIVATIONS_PER_USER=(3, 3600))
def test_repeated_failures_of_one_user_are_rate_limited(make_user, client_for):
    inviter, user = make_user(), make_user()
    client = client_for(user)
    for n in range(3):  # from different addresses: the budget is the user's
        response = client.post(
            INVITE, {"invite_code": "ZZZZZZ"}, format="json", REMOTE_ADDR=f"10.0.0.{n}"
        )
        assert response.status_code == 404

    response = client.post(
        INVITE, {"invite_code": code_of(inviter)}, format="json", REMOTE_ADDR="10.0.1.1"
    )

    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "rate_limited"
    assert 0 < body["retry_after"] <= 3600
    assert response["Retry-After"] == str(body["retry_after"])
    assert not Referral.objects.exists()
    other = client_for(make_user()).post(
        INVITE, {"invite_code": code_of(inviter)}, format="json", REMOTE_ADDR="10.0.0.1"
    )
    assert other.status_code == 200


@override_settings(
    REFERRALS_FAILED_ACTIVATIONS_PER_USER=(100, 3600),
    REFERRALS_FAILED_ACTIVATIONS_PER_IP=(3, 3600),
)
def test_repeated_failures_from_one_address_are_rate_limited(make_user, client_for):
    inviter = make_user()
    for _ in range(3):  # different users, one address
        response = client_for(make_user()).post(
            INVITE, {"invite_code": "ZZZZZZ"}, format="json", REMOTE_ADDR="10.9.9.9"
        )
        assert response.status_code == 404

    blocked = client_for(make_user()).post(
        INVITE, {"invite_code": code_of(inviter)}, format="json", REMOTE_ADDR="10.9.9.9"
    )
    elsewhere = client_for(make_user()).post(
        INVITE, {"invite_code": code_of(inviter)}, format="json", REMOTE_ADDR="10.9.9.10"
    )

    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert int(blocked["Retry-After"]) == blocked.json()["retry_after"] > 0
    assert elsewhere.status_code == 200


def test_default_budget_is_ten_failures_per_user(make_user, client_for):
    user = make_user()
    client = client_for(user)
    codes = [
        client.post(INVITE, {"invite_code": code_of(user)}, format="json").status_code
        for _ in range(10)
    ]

    response = client.post(INVITE, {"invite_code": "ZZZZZZ"}, format="json")

    assert codes == [400] * 10  # own code counts as a failure too
    assert response.status_code == 429


@override_settings(REFERRALS_FAILED_ACTIVATIONS_PER_USER=(2, 3600))
def test_cycles_count_as_failures_but_a_conflict_does_not(make_user, client_for):
    a, b, c = make_user(), make_user(), make_user()
    client_for(b).post(INVITE, {"invite_code": code_of(a)}, format="json")
    client_b = client_for(b)
    for _ in range(3):
        assert client_b.post(INVITE, {"invite_code": code_of(c)}, format="json").status_code == 409
    client_a = client_for(a)
    for _ in range(2):
        assert client_a.post(INVITE, {"invite_code": code_of(b)}, format="json").status_code == 400

    assert client_a.post(INVITE, {"invite_code": code_of(c)}, format="json").status_code == 429


@override_settings(PHONE_AUTH_RATE_LIMITS=False, REFERRALS_FAILED_ACTIVATIONS_PER_USER=(1, 3600))
def test_rate_limits_can_be_switched_off(make_user, client_for):
    inviter, user = make_user(), make_user()
    client = client_for(user)
    for _ in range(3):
        assert client.post(INVITE, {"invite_code": "ZZZZZZ"}, format="json").status_code == 404

    assert client.post(INVITE, {"invite_code": code_of(inviter)}, format="json").status_code == 200


@override_settings(REFERRALS_INVITEE_BONUS=7, REFERRALS_INVITER_BONUS=11)
def test_bonuses_come_from_settings(make_user, client_for):
    inviter, invitee = make_user(), make_user()

    client_for(invitee).post(INVITE, {"invite_code": code_of(inviter)}, format="json")

    assert (points_of(invitee), points_of(inviter)) == (7, 11)
    assert_balances_match_ledger()


def test_a_valid_activation_succeeds_with_redis_down_and_a_failed_one_is_503(make_user, client_for):
    """Redis only counts failures: a valid code needs no budget, a failure cannot be counted."""
    inviter, invitee, stranger = make_user(), make_user(), make_user()
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    with override_settings(CACHES=dead):
        refused = client_for(stranger).post(INVITE, {"invite_code": "ZZZZZZ"}, format="json")
        activated = client_for(invitee).post(
            INVITE, {"invite_code": code_of(inviter)}, format="json"
        )

    assert refused.status_code == 503, refused.content
    assert refused.json()["code"] == "service_unavailable"
    assert refused["Retry-After"] == str(refused.json()["retry_after"])
    assert activated.status_code == 200, activated.content
    assert activated.json()["points"] == 100
