"""How sign-in records read in the admin and in logs, and what serializers never show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from phone_auth.models import LoginSession, PhoneAccount, RefreshTokenRecord, SignInCode
from phone_auth.serializers import CodeField, PhoneField

pytestmark = pytest.mark.django_db

PHONE = "+79110000000"


def test_records_read_as_their_phone_or_id():
    user = get_user_model().objects.create(username="u")
    session = LoginSession.objects.create(user=user)
    later = timezone.now() + timedelta(minutes=5)

    assert str(PhoneAccount.objects.create(user=user, phone=PHONE)) == PHONE
    assert str(SignInCode.objects.create(phone=PHONE, code_hash="x", expires_at=later)) == (
        f"{PHONE} (active)"
    )
    assert str(session) == str(session.id)
    assert (
        str(RefreshTokenRecord.objects.create(jti="j1", session=session, expires_at=later)) == "j1"
    )


def test_input_fields_never_show_a_code():
    assert PhoneField().to_representation(PHONE) == PHONE
    assert CodeField().to_representation("1234") == ""
