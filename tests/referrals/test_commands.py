"""``check_points`` (balances against the ledger) and ``seed_demo`` (demo population)."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from phone_auth.models import PhoneAccount
from phone_auth.phones import normalize_phone
from referrals.models import PointsEntry, Profile, Referral
from referrals.services import invite_activate
from tests.referrals.support import (
    assert_acyclic,
    assert_balances_match_ledger,
    code_of,
    points_of,
)

pytestmark = pytest.mark.django_db


def run(*args: str, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.fixture
def pair(make_user):
    inviter, invitee = make_user("+79110000001"), make_user("+79110000002")
    invite_activate(user=invitee, code=code_of(inviter))
    return inviter, invitee


def test_check_points_passes_when_balances_match(pair):
    assert "Every balance equals its ledger sum." in run("check_points")


def test_check_points_reports_each_difference_and_fails(pair):
    inviter, invitee = pair
    Profile.objects.filter(user=inviter).update(points=999)
    Profile.objects.filter(user=invitee).update(points=0)
    out = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("check_points", stdout=out)

    assert failure.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["phone", "stored", "ledger"]
    assert [line.split() for line in lines[1:]] == [
        ["+79110000001", "999", "200"],
        ["+79110000002", "0", "100"],
    ]
    assert points_of(inviter) == 999


def test_check_points_fix_recomputes_from_the_ledger_and_appends_nothing(pair):
    inviter, invitee = pair
    Profile.objects.filter(user=inviter).update(points=-5)
    entries = list(PointsEntry.objects.order_by("id").values_list("id", "user_id", "amount"))

    out = run("check_points", fix=True)

    assert "+79110000001" in out
    assert "Recomputed 1 balance(s) from the ledger." in out
    assert points_of(inviter) == 200
    assert points_of(invitee) == 100
    assert (
        list(PointsEntry.objects.order_by("id").values_list("id", "user_id", "amount")) == entries
    )
    assert "Every balance equals its ledger sum." in run("check_points")


def test_check_points_counts_a_missing_profile_as_zero_and_fix_restores_it(pair):
    _, invitee = pair
    Profile.objects.filter(user=invitee).delete()

    with pytest.raises(CommandError):
        run("check_points")
    run("check_points", fix=True)

    assert points_of(invitee) == 100
    assert len(code_of(invitee)) == 6
    assert_balances_match_ledger()


@pytest.mark.parametrize("method", ["auto", "copy", "insert"])
def test_seed_demo_creates_a_consistent_realistic_population(method):
    out = run("seed_demo", users=400, batch=64, seed=3, method=method, verbosity=0)

    users = get_user_model().objects.all()
    assert users.count() == 400
    assert "Created 400 users" in out
    phones = list(PhoneAccount.objects.values_list("phone", flat=True))
    assert len(phones) == len(set(phones)) == 400
    assert all(normalize_phone(str(phone)) == str(phone) for phone in phones)
    codes = list(Profile.objects.values_list("invite_code", flat=True))
    assert len(set(codes)) == 400
    assert all(re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", code) for code in codes)
    assert not any(user.has_usable_password() for user in users)

    referrals = list(Referral.objects.select_related("invitee", "inviter"))
    assert 0.6 * 400 < len(referrals) < 0.8 * 400
    for referral in referrals:
        assert referral.inviter.date_joined < referral.invitee.date_joined
        assert referral.invitee.date_joined <= referral.created_at
        assert referral.invite_code == code_of(referral.inviter)
    per_inviter = Counter(referral.inviter_id for referral in referrals)
    assert max(per_inviter.values()) >= 8  # preferential attachment: a few invite many
    assert Counter(PointsEntry.objects.values_list("reason", flat=True)) == {
        "referral_invitee": len(referrals),
        "referral_inviter": len(referrals),
    }
    assert_acyclic()
    assert_balances_match_ledger()
    assert "Every balance equals its ledger sum." in run("check_points")


def test_seeded_users_show_up_in_the_api_like_any_other(client_for):
    run("seed_demo", users=50, seed=5, verbosity=0)
    top_id, top_count = Counter(Referral.objects.values_list("inviter_id", flat=True)).most_common(
        1
    )[0]
    top = get_user_model().objects.get(pk=top_id)

    body = client_for(top).get("/api/v1/profile/").json()

    assert body["referrals_count"] == top_count
    invited = Referral.objects.filter(invitee=top).exists()
    assert body["points"] == 200 * top_count + 100 * invited
    assert body["phone"] == str(top.phone_account.phone)


def test_seed_demo_runs_again_with_new_phones_and_codes():
    run("seed_demo", users=30, verbosity=0)
    run("seed_demo", users=30, verbosity=0)

    phones = sorted(str(p) for p in PhoneAccount.objects.values_list("phone", flat=True))
    assert len(set(phones)) == 60
    assert phones[0] == "+79000000000"
    assert phones[-1] == "+79000000059"
    assert Profile.objects.values("invite_code").distinct().count() == 60
    assert_balances_match_ledger()


def test_seed_demo_is_reproducible_with_a_seed():
    def shape() -> list[tuple[int, int]]:
        first = get_user_model().objects.order_by("pk").values_list("pk", flat=True).first()
        return sorted(
            (invitee - first, inviter - first)
            for invitee, inviter in Referral.objects.filter(
                invitee__isnull=False, inviter__isnull=False
            ).values_list("invitee_id", "inviter_id")
        )

    run("seed_demo", users=80, seed=11, verbosity=0)
    before = shape()
    get_user_model().objects.all().delete()
    run("seed_demo", users=80, seed=11, verbosity=0)

    assert shape() == before


def test_seed_demo_refuses_when_demo_numbers_run_out(make_user):
    make_user("+79299999990")

    with pytest.raises(CommandError, match="Only 9 demo phone numbers are left"):
        run("seed_demo", users=10, verbosity=0)

    assert get_user_model().objects.count() == 1


def test_seed_demo_shows_a_progress_bar():
    err = io.StringIO()

    call_command("seed_demo", users=20, batch=5, stdout=io.StringIO(), stderr=err)

    assert "20/20" in err.getvalue()


@pytest.mark.parametrize("users", ["0", "-3", "many"])
def test_seed_demo_rejects_a_bad_user_count(users):
    with pytest.raises(CommandError):
        call_command("seed_demo", "--users", users, stdout=io.StringIO(), stderr=io.StringIO())
