"""Host-project hooks, chosen by the dotted-path setting ``PHONE_AUTH_ADAPTER``.

A project that installs the app overrides how a user is created for a new phone and
what the sign-in answer says about the user, without forking the flows.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.module_loading import import_string

from phone_auth.conf import app_settings
from phone_auth.typing import AuthUser
from phone_auth.users import (
    is_unique_user_field,
    new_user_values,
    profile_user_fields,
    shown_email,
)


class DefaultAdapter:
    """Creates a plain user for a phone; override methods to change that."""

    def new_user(self, *, phone: str) -> AuthUser:
        """Create (and save) the user for a first sign-in with ``phone``.

        The values come from ``phone_auth.users.new_user_values``: the phone as the login
        name, no email (``NULL``, or a ``.invalid`` placeholder where the model needs a
        unique one), so any number of phones sign up whatever the user model.
        """
        user_model = get_user_model()
        values = new_user_values(phone)
        # A user named like the phone may exist without a phone account (made in the
        # admin, say): the new user gets distinct values instead of a clash.
        while self._taken(values):
            values = new_user_values(phone, suffix=f"-{secrets.token_hex(3)}")
        user = user_model(**values)
        user.set_unusable_password()
        user.save()
        return user

    @staticmethod
    def _taken(values: dict[str, Any]) -> bool:
        user_model = get_user_model()
        clash = Q()
        for name, value in values.items():
            if value is not None and is_unique_user_field(name):
                clash |= Q(**{name: value})
        return bool(clash) and user_model._default_manager.filter(clash).exists()

    def on_signed_up(self, *, user: AuthUser, phone: str) -> None:
        """Runs in the sign-up transaction, after the phone is linked to the user."""

    def profile_data(self, *, user: AuthUser) -> dict[str, Any]:
        """The ``profile`` object of the sign-in answer: only fields the user model has."""
        account = getattr(user, "phone_account", None)
        data: dict[str, Any] = {
            "id": user.pk,
            "phone": str(account.phone) if account else None,
        }
        for name in profile_user_fields():
            value = getattr(user, name)
            if name == "email":
                value = shown_email(value)
            data[name] = "" if value is None and name != "date_joined" else value
        return data


@lru_cache(maxsize=4)
def _adapter(path: str) -> DefaultAdapter:
    adapter = import_string(path)()
    assert isinstance(adapter, DefaultAdapter)
    return adapter


def get_adapter() -> DefaultAdapter:
    """The configured adapter instance."""
    return _adapter(app_settings.ADAPTER)
