"""Refresh rotation on PostgreSQL: one statement that consumes, checks and records, and
that changes nothing when it refuses."""

from __future__ import annotations

import jwt
import pytest
from django.contrib.auth import get_user_model

from phone_auth.models import RefreshTokenRecord
from phone_auth.services import user_get_or_create
from phone_auth.tokens import session_start, sessions_logout_all, token_refresh
from tests.auth.support import PROFILE
from tests.support import assert_error, bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return user_get_or_create(phone="+79110000000")[0]


def record_of(raw: str) -> RefreshTokenRecord:

    return RefreshTokenRecord.objects.get(
        jti=jwt.decode(raw, options={"verify_signature": False})["jti"]
    )


def test_a_rotation_is_one_statement(user, django_assert_num_queries):
    first = session_start(user=user)

    with django_assert_num_queries(1):
        second = token_refresh(raw=first.refresh)

    assert record_of(first.refresh).consumed_at is not None
    assert record_of(second.refresh).consumed_at is None
    assert record_of(second.refresh).session_id == record_of(first.refresh).session_id
    assert bearer(second.access).get(PROFILE).status_code == 200
    assert token_refresh(raw=second.refresh).refresh


@pytest.mark.parametrize("refusal", ["logged_out", "disabled"])
def test_a_refused_rotation_changes_nothing(user, api_client, refusal):
    pair = session_start(user=user)
    if refusal == "logged_out":
        sessions_logout_all(user=user)
    else:
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair.refresh}, format="json"
    )

    assert_error(response, 401, "token_not_valid")
    assert record_of(pair.refresh).consumed_at is None
    assert RefreshTokenRecord.objects.count() == 1
