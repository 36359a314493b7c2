"""A host project without the referral program gets the default adapter's plain user."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from phone_auth.adapter import DefaultAdapter, get_adapter
from referrals.models import Profile

pytestmark = pytest.mark.django_db

PHONE = "+79110000000"


@override_settings(PHONE_AUTH_ADAPTER="phone_auth.adapter.DefaultAdapter")
def test_the_default_adapter_signs_in_a_plain_user(sign_in):
    signed_in = sign_in(PHONE)

    assert type(get_adapter()) is DefaultAdapter
    user = get_user_model().objects.get()
    assert user.username == PHONE
    assert not user.has_usable_password()
    assert not Profile.objects.exists()
    assert signed_in["profile"]["id"] == user.pk
    assert signed_in["profile"]["phone"] == PHONE
    assert set(signed_in["profile"]) == {
        "id",
        "phone",
        "first_name",
        "last_name",
        "email",
        "date_joined",
    }


@pytest.mark.django_db
def test_a_user_already_named_like_the_phone_does_not_block_sign_up():
    from phone_auth.services import user_get_or_create

    existing = get_user_model().objects.create_user(username="+79110000077")
    user, created = user_get_or_create(phone="+79110000077")
    assert created is True
    assert user.pk != existing.pk
    assert user.get_username().startswith("+79110000077-")
    assert user.phone_account.phone == "+79110000077"


@pytest.mark.parametrize("stored", ["", f"{PHONE}@phone.invalid", f"{PHONE}-a1b2c3@phone.invalid"])
def test_the_default_profile_shows_no_email_for_none_or_a_placeholder(make_user, stored):
    user = make_user(PHONE, email=stored)

    assert DefaultAdapter().profile_data(user=user)["email"] == ""


def test_the_default_profile_shows_a_real_email(make_user):
    user = make_user(PHONE, email="anna@example.com")

    assert DefaultAdapter().profile_data(user=user)["email"] == "anna@example.com"
