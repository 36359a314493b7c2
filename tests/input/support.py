"""Users and clients for the input tests, made the way a first sign-in makes them."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from phone_auth.services import user_get_or_create
from phone_auth.tokens import session_start


def signed_in(phone: str, **fields: Any) -> tuple[Any, APIClient]:
    """A user of ``phone`` (with ``fields`` set) and an API client signed in as it."""
    user, _ = user_get_or_create(phone=phone)
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=user).access}")
    return user, client
