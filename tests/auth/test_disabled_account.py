"""A disabled account cannot sign in through the API, just as it cannot through the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from phone_auth.models import LoginSession
from tests.support import assert_error, code_from_outbox

pytestmark = pytest.mark.django_db

SignedIn = Callable[..., tuple[Any, APIClient]]

PHONE = "+79110000001"


def test_verify_code_refuses_a_disabled_account(sms_outbox: list, signed_in: SignedIn) -> None:
    signed_in(PHONE)
    get_user_model().objects.update(is_active=False)
    LoginSession.objects.all().delete()
    client = APIClient()
    assert (
        client.post("/api/v1/auth/send-code/", {"phone": PHONE}, format="json").status_code == 200
    )

    response = client.post(
        "/api/v1/auth/verify-code/",
        {"phone": PHONE, "code": code_from_outbox(sms_outbox, PHONE)},
        format="json",
    )

    body = assert_error(response, 403, "permission_denied")
    assert body["detail"] == "This account is disabled."
    assert "access" not in body
    assert not LoginSession.objects.exists()
