"""Routes and helpers of the host-project scenarios (no fixtures: see ``conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

SEND_CODE = "/api/v1/auth/send-code/"
VERIFY_CODE = "/api/v1/auth/verify-code/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
PROFILE = "/api/v1/profile/"

SignIn = Callable[[str], dict[str, Any]]


def has_referrals() -> bool:
    """Whether this host installs the referral program."""
    return apps.is_installed("referrals")


def user_has_field(name: str) -> bool:
    """Whether the host's user model has the field ``name``."""
    return any(field.name == name for field in get_user_model()._meta.get_fields())


def bearer(access: str) -> APIClient:
    """A client that sends ``access`` as its bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def assert_invalid_input(response: Any, field: str) -> None:
    """A ``400 invalid_input`` naming ``field``."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input", body
    assert field in body["fields"], body
