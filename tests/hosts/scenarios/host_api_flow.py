"""The whole API flow on a host project, through HTTP, with the README's settings only.

Each host (its own user model, Django's ``User``, phone sign-in without referrals) runs
this same module; what a host lacks (a field, the referral program) is asked of the host
itself, so every expectation below follows from the host's models and settings.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client
from rest_framework.test import APIClient
from support import (
    LOGOUT,
    PROFILE,
    REFRESH,
    SignIn,
    assert_invalid_input,
    bearer,
    has_referrals,
    user_has_field,
)

pytestmark = pytest.mark.django_db

PHONES = [f"+7911555{n:04d}" for n in range(4)]
USER_FIELDS = ("first_name", "last_name", "email", "date_joined")
REFERRAL_FIELDS = {
    "invite_code",
    "activated_invite_code",
    "inviter_phone",
    "referrals",
    "referrals_count",
    "points",
}

needs_referrals = pytest.mark.skipif(not has_referrals(), reason="the host has no referrals")
has_email = pytest.mark.skipif(not user_has_field("email"), reason="the host has no email")
email_is_unique = pytest.mark.skipif(
    not (user_has_field("email") and get_user_model()._meta.get_field("email").unique),
    reason="the host's email is not unique",
)


def expected_user_fields() -> set[str]:
    """The user fields a profile shows on this host: only those its model has."""
    return {name for name in USER_FIELDS if user_has_field(name)}


def test_any_number_of_phones_sign_up(sign_in: SignIn) -> None:
    answers = [sign_in(phone) for phone in PHONES]

    assert [answer["is_new_user"] for answer in answers] == [True] * len(PHONES)
    assert len({answer["profile"]["id"] for answer in answers}) == len(PHONES)
    assert [answer["profile"]["phone"] for answer in answers] == PHONES
    assert get_user_model().objects.count() == len(PHONES)
    again = sign_in(PHONES[0])
    assert again["is_new_user"] is False
    assert again["profile"]["id"] == answers[0]["profile"]["id"]


def test_phone_sign_in_alone_never_loads_the_referral_program(sign_in: SignIn) -> None:
    profile = sign_in(PHONES[0])["profile"]

    if has_referrals():
        assert set(profile) >= REFERRAL_FIELDS
    else:
        assert set(profile) == {"id", "phone", *expected_user_fields()}
        assert not [name for name in sys.modules if name.split(".")[0] == "referrals"]


def test_the_sign_in_profile_shows_only_the_models_fields(sign_in: SignIn) -> None:
    profile = sign_in(PHONES[0])["profile"]

    assert {name for name in USER_FIELDS if name in profile} == expected_user_fields()


def test_refresh_and_logout(sign_in: SignIn) -> None:
    tokens = sign_in(PHONES[0])

    rotated = APIClient().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    fresh = rotated.json()
    logout = bearer(fresh["access"]).post(LOGOUT, {"refresh": fresh["refresh"]}, format="json")
    assert logout.status_code == 204, logout.content
    replay = APIClient().post(REFRESH, {"refresh": fresh["refresh"]}, format="json")
    assert replay.status_code == 401
    assert replay.json()["code"] == "token_not_valid"


def test_health_and_jwks_are_mounted_from_the_apps_url_modules() -> None:
    health = APIClient().get("/healthz")
    assert health.status_code == 200, health.content
    assert health.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    jwks = APIClient().get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert jwks.json() == {"keys": []}  # the host signs with its SECRET_KEY (HS256)


def test_the_apps_system_checks_are_clean() -> None:
    from phone_auth.checks import check_phone_auth

    # The test runner turns DEBUG off, and then the console sender is flagged (W002) as
    # it should be; nothing else may be.
    assert [problem.id for problem in check_phone_auth()] == ["phone_auth.W002"]


def test_the_hosts_user_admin_is_its_own() -> None:
    model = get_user_model()
    model_admin = admin.site._registry[model]

    # Registered by the admin module of the app that defines the model, never replaced.
    assert (
        type(model_admin).__module__ == f"{apps.get_app_config(model._meta.app_label).name}.admin"
    )
    if model is User:
        assert type(model_admin) is UserAdmin


def _opted_in_user_admin() -> bool:
    """Whether the host's user admin takes the referral columns (as the README shows)."""
    if not has_referrals():
        return False
    from referrals.admin import ReferralUserAdminMixin

    return isinstance(admin.site._registry[get_user_model()], ReferralUserAdminMixin)


@needs_referrals
def test_an_opted_in_user_admin_shows_and_finds_the_phone_code_and_points(
    sign_in: SignIn,
) -> None:
    if not _opted_in_user_admin():
        pytest.skip("the host's user admin did not opt in")
    model = get_user_model()
    profile = sign_in(PHONES[0])["profile"]
    sign_in(PHONES[1])
    staff = Client()
    staff.force_login(model.objects.create_superuser(**{model.USERNAME_FIELD: "staff@example.com"}))
    changelist = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    found = staff.get(changelist, {"q": PHONES[0]}).content.decode()
    page = staff.get(f"{changelist}{profile['id']}/change/")

    assert PHONES[0] in found
    assert PHONES[1] not in found
    assert profile["invite_code"] in found
    assert '<td class="field-points">0</td>' in found
    assert page.status_code == 200
    assert PHONES[0] in page.content.decode()
    assert profile["invite_code"] in page.content.decode()


@needs_referrals
@pytest.mark.django_db(transaction=True)
def test_an_opted_in_user_admin_deletes_a_user_with_their_phone(sign_in: SignIn) -> None:
    if not _opted_in_user_admin():
        pytest.skip("the host's user admin did not opt in")
    from phone_auth.models import PhoneAccount

    model = get_user_model()
    user_id = sign_in(PHONES[0])["profile"]["id"]
    staff = Client()
    staff.force_login(model.objects.create_superuser(**{model.USERNAME_FIELD: "staff@example.com"}))
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{user_id}/delete/"

    confirm = staff.get(url)
    deleted = staff.post(url, {"post": "yes"})

    assert "permission to delete" not in confirm.content.decode()
    assert deleted.status_code == 302
    assert not model.objects.filter(pk=user_id).exists()
    assert not PhoneAccount.objects.filter(user_id=user_id).exists()


def test_the_web_forms_import_and_edit_only_the_models_fields() -> None:
    from phone_referrals_web.forms import DetailsForm

    assert set(DetailsForm.base_fields) == expected_user_fields() - {"date_joined"}


@needs_referrals
def test_the_profile_shows_only_the_models_fields(sign_in: SignIn) -> None:
    access = sign_in(PHONES[0])["access"]

    profile = bearer(access).get(PROFILE)
    assert profile.status_code == 200, profile.content
    assert {name for name in USER_FIELDS if name in profile.json()} == expected_user_fields()
    assert set(profile.json()) >= REFERRAL_FIELDS


@needs_referrals
@pytest.mark.parametrize("name", ["first_name", "last_name"])
def test_patch_takes_a_name_only_where_the_model_has_it(sign_in: SignIn, name: str) -> None:
    client = bearer(sign_in(PHONES[0])["access"])

    answer = client.patch(PROFILE, {name: "Anna"}, format="json")

    if user_has_field(name):
        assert answer.status_code == 200, answer.content
        assert answer.json()[name] == "Anna"
    else:
        assert_invalid_input(answer, name)
        assert name not in client.get(PROFILE).json()


@has_email
def test_a_new_phone_user_shows_no_email_in_any_profile(sign_in: SignIn) -> None:
    """Whatever the model stores for "no email" (``""``, ``NULL``, or the ``.invalid``
    placeholder of a unique, required column), every profile shows ``""``, as for a user
    of Django's own model who never gave one."""
    tokens = sign_in(PHONES[0])
    stored = get_user_model().objects.get(pk=tokens["profile"]["id"]).email
    field = get_user_model()._meta.get_field("email")
    if field.unique and not field.null:
        assert stored == f"{PHONES[0]}@phone.invalid"

    assert tokens["profile"]["email"] == ""
    if has_referrals():
        client = bearer(tokens["access"])
        assert client.get(PROFILE).json()["email"] == ""  # the one-statement read
        assert client.patch(PROFILE, {}, format="json").json()["email"] == ""  # a PATCH answer
        assert (
            client.patch(PROFILE, {"email": "anna@example.com"}, format="json").json()["email"]
            == "anna@example.com"
        )
        assert client.get(PROFILE).json()["email"] == "anna@example.com"


@needs_referrals
@has_email
@pytest.mark.parametrize("email", ["anna@phone.invalid", "+79115550001@PHONE.INVALID"])
def test_an_address_on_the_placeholder_domain_is_invalid_input(sign_in: SignIn, email: str) -> None:
    client = bearer(sign_in(PHONES[0])["access"])

    answer = client.patch(PROFILE, {"email": email}, format="json")

    assert_invalid_input(answer, "email")
    assert client.get(PROFILE).json()["email"] == ""


@needs_referrals
def test_patch_sets_the_email(sign_in: SignIn) -> None:
    client = bearer(sign_in(PHONES[0])["access"])

    answer = client.patch(PROFILE, {"email": "anna@example.com"}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["email"] == "anna@example.com"
    assert get_user_model().objects.filter(email="anna@example.com").count() == 1


@needs_referrals
@email_is_unique
def test_a_taken_email_is_invalid_input(sign_in: SignIn) -> None:
    first = bearer(sign_in(PHONES[0])["access"])
    second = bearer(sign_in(PHONES[1])["access"])
    assert first.patch(PROFILE, {"email": "anna@example.com"}, format="json").status_code == 200

    answer = second.patch(PROFILE, {"email": "anna@example.com"}, format="json")

    assert_invalid_input(answer, "email")
    assert second.get(PROFILE).json()["email"] != "anna@example.com"


@needs_referrals
@email_is_unique
def test_a_taken_email_stops_the_activation_in_the_same_patch(sign_in: SignIn) -> None:
    inviter = sign_in(PHONES[0])
    client = bearer(sign_in(PHONES[1])["access"])
    bearer(inviter["access"]).patch(PROFILE, {"email": "anna@example.com"}, format="json")

    answer = client.patch(
        PROFILE,
        {"email": "anna@example.com", "activated_invite_code": inviter["profile"]["invite_code"]},
        format="json",
    )

    assert_invalid_input(answer, "email")
    assert client.get(PROFILE).json()["activated_invite_code"] is None


def _wait_for_a_lock_wait(timeout: float = 10.0) -> None:
    """Until some other connection waits on a lock (the PATCH behind the open insert)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the PATCH never waited for the other transaction")


@needs_referrals
@email_is_unique
@pytest.mark.django_db(transaction=True)
def test_an_email_taken_while_the_patch_runs_is_invalid_input(sign_in: SignIn) -> None:
    client = bearer(sign_in(PHONES[0])["access"])
    sign_in(PHONES[1])
    other = get_user_model().objects.get(phone_account__phone=PHONES[1])
    holding, release = threading.Event(), threading.Event()
    answers: list[Any] = []

    def take_the_email_and_wait() -> None:
        try:
            with transaction.atomic():
                get_user_model().objects.filter(pk=other.pk).update(email="anna@example.com")
                holding.set()
                release.wait(15)
        finally:
            connections.close_all()

    def patch() -> None:
        try:
            answers.append(client.patch(PROFILE, {"email": "anna@example.com"}, format="json"))
        finally:
            connections.close_all()

    holder = threading.Thread(target=take_the_email_and_wait)
    holder.start()
    assert holding.wait(10)
    patcher = threading.Thread(target=patch)
    patcher.start()
    try:
        _wait_for_a_lock_wait()
    finally:
        release.set()
        holder.join(15)
        patcher.join(15)

    assert_invalid_input(answers[0], "email")


@needs_referrals
def test_invite_activation_points_and_lists(sign_in: SignIn) -> None:
    inviter = sign_in(PHONES[0])
    invitee = sign_in(PHONES[1])
    code = inviter["profile"]["invite_code"]

    activated = bearer(invitee["access"]).post(
        f"{PROFILE}invite/", {"invite_code": code.lower()}, format="json"
    )

    assert activated.status_code == 200, activated.content
    assert (activated.json()["inviter_phone"], activated.json()["points"]) == (PHONES[0], 100)
    owner = bearer(inviter["access"])
    assert owner.get(PROFILE).json()["referrals"] == [PHONES[1]]
    assert owner.get(f"{PROFILE}referrals/").json()["results"][0]["phone"] == PHONES[1]
    assert owner.get(f"{PROFILE}points/").json()["results"][0]["amount"] == 200


@needs_referrals
def test_staff_see_the_users(sign_in: SignIn) -> None:
    tokens = sign_in(PHONES[0])
    sign_in(PHONES[1])
    get_user_model().objects.filter(pk=tokens["profile"]["id"]).update(is_staff=True)

    listed = bearer(tokens["access"]).get("/api/v1/users/", {"search": "555"})

    assert listed.status_code == 200, listed.content
    assert [user["phone"] for user in listed.json()["results"]] == PHONES[:2]


@needs_referrals
def test_seed_demo_fills_the_hosts_user_table(sign_in: SignIn) -> None:
    call_command("seed_demo", users=30, seed=7, verbosity=0)

    assert get_user_model().objects.count() == 30
    assert sign_in(PHONES[0])["is_new_user"] is True
    assert get_user_model().objects.count() == 31
