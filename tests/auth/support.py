"""Routes and small request helpers shared by the sign-in tests."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

SEND_CODE = "/api/v1/auth/send-code/"
VERIFY_CODE = "/api/v1/auth/verify-code/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
LOGOUT_ALL = "/api/v1/auth/logout-all/"
PROFILE = "/api/v1/profile/"
JWKS = "/.well-known/jwks.json"

# The contract's invite-code alphabet: digits and capitals without look-alikes.
INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def send_code(client: APIClient, phone: Any, **extra: Any) -> Any:
    """POST send-code with ``phone``."""
    return client.post(SEND_CODE, {"phone": phone}, format="json", **extra)


def verify_code(client: APIClient, phone: Any, code: Any, **extra: Any) -> Any:
    """POST verify-code with ``phone`` and ``code``."""
    return client.post(VERIFY_CODE, {"phone": phone, "code": code}, format="json", **extra)


def refresh(client: APIClient, token: str) -> Any:
    """POST token/refresh with ``token``."""
    return client.post(REFRESH, {"refresh": token}, format="json")
