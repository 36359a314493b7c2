"""The Django admin: the service's users (``config/admin.py``, built on
``referrals.admin.ReferralUserAdminMixin``) with phone, code and points, searchable by phone;
read-only records (ledger, referrals, codes without their hashes); revoking logins;
deleting users."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from phone_auth.models import LoginSession, PhoneAccount, SignInCode
from phone_auth.services import code_store
from phone_auth.tokens import session_start
from referrals.models import PointsEntry, Profile, Referral
from referrals.services import invite_activate
from tests.referrals.support import assert_balances_match_ledger, code_of, points_of

pytestmark = pytest.mark.django_db

CHANGELISTS = {
    "user": "/admin/auth/user/",
    "phone account": "/admin/phone_auth/phoneaccount/",
    "profile": "/admin/referrals/profile/",
    "referral": "/admin/referrals/referral/",
    "ledger": "/admin/referrals/pointsentry/",
    "sign-in code": "/admin/phone_auth/signincode/",
    "login": "/admin/phone_auth/loginsession/",
}


@pytest.fixture
def population(make_user):
    inviter, invitee = make_user("+79110000001"), make_user("+79110000002")
    invite_activate(user=invitee, code=code_of(inviter))
    session_start(user=inviter)
    session_start(user=invitee)
    code_store(phone="+79110000001", client="10.0.0.1", code="1234")
    code_store(phone="+79110000002", client="10.0.0.1", code="1234")
    return inviter, invitee


@pytest.mark.parametrize("name", list(CHANGELISTS))
def test_every_changelist_is_searchable_by_phone(admin_client, population, make_user, name):
    make_user("+79110000003")
    found = admin_client.get(CHANGELISTS[name], {"q": "+79110000001"})
    other = admin_client.get(CHANGELISTS[name], {"q": "+79110000003"})

    assert found.status_code == 200
    assert "+79110000001" in found.content.decode()
    assert "+79110000001" not in other.content.decode()


def test_user_list_shows_phone_invite_code_and_points(admin_client, population):
    inviter, invitee = population

    page = admin_client.get(CHANGELISTS["user"]).content.decode()

    for user, points in ((inviter, 200), (invitee, 100)):
        assert code_of(user) in page
        assert str(user.phone_account.phone) in page
        assert f'<td class="field-points">{points}</td>' in page


def test_user_page_shows_phone_and_referral_profile(admin_client, population):
    inviter, _ = population

    page = admin_client.get(f"/admin/auth/user/{inviter.pk}/change/").content.decode()

    assert "+79110000001" in page
    assert code_of(inviter) in page


@pytest.mark.parametrize(
    "model",
    [
        "referrals/pointsentry",
        "referrals/referral",
        "referrals/profile",
        "phone_auth/signincode",
        "phone_auth/loginsession",
    ],
)
def test_records_are_read_only(admin_client, population, model):
    row = {
        "referrals/pointsentry": PointsEntry,
        "referrals/referral": Referral,
        "referrals/profile": Profile,
        "phone_auth/signincode": SignInCode,
        "phone_auth/loginsession": LoginSession,
    }[model].objects.first()
    base = f"/admin/{model}/"

    assert admin_client.get(f"{base}add/").status_code == 403
    assert admin_client.get(f"{base}{row.pk}/change/").status_code == 200
    assert admin_client.post(f"{base}{row.pk}/change/", {}).status_code == 403
    assert admin_client.get(f"{base}{row.pk}/delete/").status_code == 403
    assert admin_client.post(
        base, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    ).status_code in (200, 302)
    assert type(row).objects.filter(pk=row.pk).exists()
    assert_balances_match_ledger()


def test_sign_in_code_hash_is_never_shown(admin_client, population):
    codes = list(SignInCode.objects.all())

    pages = [admin_client.get(CHANGELISTS["sign-in code"]).content.decode()] + [
        admin_client.get(f"/admin/phone_auth/signincode/{code.pk}/change/").content.decode()
        for code in codes
    ]

    for page in pages:
        assert "code_hash" not in page
        assert "code hash" not in page.lower()
        for code in codes:
            assert code.code_hash not in page


def test_revoke_action_ends_logins_at_once(admin_client, make_user, client_for):
    user = make_user()
    client = client_for(user)
    assert client.get("/api/v1/profile/").status_code == 200
    session = LoginSession.objects.get(user=user)

    response = admin_client.post(
        CHANGELISTS["login"], {"action": "revoke", "_selected_action": [str(session.pk)]}
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert session.revoke_reason == "admin"
    assert client.get("/api/v1/profile/").status_code == 401


def test_revoke_needs_the_change_permission(client, make_user, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_loginsession"))
    client.force_login(viewer)
    user = make_user()
    session_start(user=user)
    session = LoginSession.objects.get(user=user)

    page = client.get(CHANGELISTS["login"]).content.decode()
    client.post(CHANGELISTS["login"], {"action": "revoke", "_selected_action": [str(session.pk)]})

    assert 'value="revoke"' not in page
    session.refresh_from_db()
    assert session.revoked_at is None


def test_phone_can_be_corrected_but_must_be_valid(admin_client, make_user):
    user = make_user("+79110000005")
    url = f"/admin/phone_auth/phoneaccount/{user.pk}/change/"

    invalid = admin_client.post(url, {"phone": "12345"})
    valid = admin_client.post(url, {"phone": "+79110000006"})

    assert invalid.status_code == 200  # the form again, with its error
    assert valid.status_code == 302
    assert str(PhoneAccount.objects.get(user=user).phone) == "+79110000006"


@pytest.mark.django_db(transaction=True)
def test_deleting_a_user_in_the_admin_works_and_keeps_the_others_points(admin_client, population):
    inviter, invitee = population

    confirm = admin_client.get(f"/admin/auth/user/{inviter.pk}/delete/")
    response = admin_client.post(f"/admin/auth/user/{inviter.pk}/delete/", {"post": "yes"})

    assert confirm.status_code == 200
    assert "permission to delete" not in confirm.content.decode()
    assert response.status_code == 302
    assert not PhoneAccount.objects.filter(user_id=inviter.pk).exists()
    assert not PointsEntry.objects.filter(user_id=inviter.pk).exists()
    assert points_of(invitee) == 100
    assert Referral.objects.get(invitee=invitee).inviter_id is None
    assert_balances_match_ledger()
