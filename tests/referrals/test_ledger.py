"""The points ledger is append-only, in the models and in PostgreSQL itself, while deleting
a user still works and leaves everyone else's points and referral history intact."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from referrals.models import PointsEntry, Profile, Referral
from referrals.services import invite_activate
from tests.referrals.support import (
    assert_balances_match_ledger,
    code_of,
    points_of,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"
)


@pytest.fixture
def pair(make_user):
    """``inviter`` invited ``invitee``."""
    inviter, invitee = make_user(), make_user()
    invite_activate(user=invitee, code=code_of(inviter))
    return inviter, invitee


@pytest.mark.django_db
def test_models_refuse_to_change_or_delete_an_entry(pair):
    entry = PointsEntry.objects.first()
    entry.amount = 1_000_000

    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"amount": 1_000_000},
        {"reason": PointsEntry.Reason.REFERRAL_INVITER},
        {"referral": None},
    ],
)
def test_database_refuses_any_update(pair, change):
    inviter, _ = pair

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PointsEntry.objects.filter(user=inviter).update(**change)

    assert PointsEntry.objects.get(user=inviter).amount == 200


@pytest.mark.django_db
def test_database_refuses_a_raw_update(pair):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE referrals_pointsentry SET amount = amount + 1")


@pytest.mark.django_db(transaction=True)
def test_database_refuses_deleting_entries_of_a_user_who_stays(pair):
    inviter, _ = pair

    with pytest.raises(IntegrityError, match="goes only with its user"):
        PointsEntry.objects.filter(user=inviter).delete()
    with (
        pytest.raises(IntegrityError, match="goes only with its user"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM referrals_pointsentry")

    assert PointsEntry.objects.count() == 2
    assert_balances_match_ledger()


@pytest.mark.django_db(transaction=True)
def test_new_entries_can_still_be_appended(pair, make_user):
    inviter, _ = pair

    invite_activate(user=make_user(), code=code_of(inviter))

    assert PointsEntry.objects.filter(user=inviter).count() == 2
    assert points_of(inviter) == 400


@pytest.mark.django_db(transaction=True)
def test_deleting_an_inviter_keeps_the_invitees_points_and_activation(pair, make_user, client_for):
    inviter, invitee = pair
    inviter_code = code_of(inviter)

    inviter.delete()

    assert not PointsEntry.objects.filter(user_id=inviter.pk).exists()
    assert not Profile.objects.filter(user_id=inviter.pk).exists()
    referral = Referral.objects.get(invitee=invitee)
    assert (referral.inviter_id, referral.invite_code) == (None, inviter_code)
    body = client_for(invitee).get("/api/v1/profile/").json()
    assert (body["points"], body["activated_invite_code"], body["inviter_phone"]) == (
        100,
        inviter_code,
        None,
    )
    ledger = client_for(invitee).get("/api/v1/profile/points/").json()["results"]
    assert [(e["amount"], e["phone"]) for e in ledger] == [(100, None)]
    again = client_for(invitee).post(
        "/api/v1/profile/invite/", {"invite_code": code_of(make_user())}, format="json"
    )
    assert again.status_code == 409
    assert_balances_match_ledger()


@pytest.mark.django_db(transaction=True)
def test_deleting_an_invitee_keeps_the_inviters_points(pair, client_for):
    inviter, invitee = pair

    invitee.delete()

    client = client_for(inviter)
    body = client.get("/api/v1/profile/").json()
    assert (body["points"], body["referrals"], body["referrals_count"]) == (200, [], 0)
    assert client.get("/api/v1/profile/referrals/").json()["results"] == []
    ledger = client.get("/api/v1/profile/points/").json()["results"]
    assert [(e["amount"], e["reason"], e["phone"]) for e in ledger] == [
        (200, "referral_inviter", None)
    ]
    assert Referral.objects.get().invitee_id is None
    assert_balances_match_ledger()


@pytest.mark.django_db(transaction=True)
def test_a_user_in_the_middle_of_a_chain_can_be_deleted(make_user):
    a, b, c = make_user(), make_user(), make_user()
    invite_activate(user=b, code=code_of(a))
    invite_activate(user=c, code=code_of(b))

    b.delete()

    assert (points_of(a), points_of(c)) == (200, 100)
    assert Referral.objects.count() == 2
    assert_balances_match_ledger()


@pytest.mark.django_db(transaction=True)
def test_the_chain_above_a_deleted_inviter_no_longer_blocks_activation(make_user):
    a, b, c = make_user(), make_user(), make_user()
    invite_activate(user=b, code=code_of(a))  # a invited b
    invite_activate(user=c, code=code_of(b))  # b invited c: c cannot invite a
    b.delete()

    invite_activate(user=a, code=code_of(c))

    assert Referral.objects.get(invitee=a).inviter_id == c.pk
    assert_balances_match_ledger()


@pytest.mark.django_db(transaction=True)
def test_a_referral_with_entries_cannot_be_deleted(pair):
    with pytest.raises(ProtectedError):
        Referral.objects.all().delete()

    assert Referral.objects.count() == 1
