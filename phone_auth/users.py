"""What the apps may assume about the host's user model: only what it declares.

``AUTH_USER_MODEL`` may be Django's ``User`` or a project's own model (signing in by
email, without names, ...). The profile shows and edits only the user fields the model
has, and a new user for a phone gets values that any number of phone sign-ups can share
without breaking a unique column.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# User fields a user edits, and the ones the profile shows, when the model has them.
EDITABLE_USER_FIELDS = ("first_name", "last_name", "email")
PROFILE_USER_FIELDS = (*EDITABLE_USER_FIELDS, "date_joined")

# A unique, required email gets ``<phone>@phone.invalid``: the ``.invalid`` top-level
# domain is reserved (RFC 2606) and never resolves, so no mail can reach anyone.
PLACEHOLDER_EMAIL_DOMAIN = "phone.invalid"


@cache
def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any] | None:
    """The concrete field ``name`` of ``model``, or ``None`` when it has none."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) and field.concrete else None


def user_field(name: str) -> models.Field[Any, Any] | None:
    """The concrete field ``name`` of the user model, or ``None`` when it has none."""
    return model_field(get_user_model(), name)


def is_unique_user_field(name: str) -> bool:
    """Whether the user model's column ``name`` is unique."""
    field = user_field(name)
    return field is not None and bool(field.unique)


def profile_user_fields() -> tuple[str, ...]:
    """The user fields a profile shows: those of ``PROFILE_USER_FIELDS`` the model has."""
    return tuple(name for name in PROFILE_USER_FIELDS if user_field(name) is not None)


def editable_user_fields() -> tuple[str, ...]:
    """The user fields a profile edits: those of ``EDITABLE_USER_FIELDS`` the model has."""
    return tuple(
        name
        for name in EDITABLE_USER_FIELDS
        if (field := user_field(name)) is not None and field.editable
    )


def stored_value(name: str, value: Any) -> Any:
    """``value`` as the column ``name`` stores it: a blank in a nullable column is ``NULL``.

    Many users may have no email; a unique nullable column takes any number of ``NULL``
    but only one empty string.
    """
    field = user_field(name)
    if value == "" and field is not None and field.null:
        return None
    return value


def placeholder_email(phone: str, suffix: str = "") -> str:
    """The stand-in address of a phone's user where the model requires a unique email."""
    return f"{phone}{suffix}@{PLACEHOLDER_EMAIL_DOMAIN}"


def is_placeholder_email(value: object) -> bool:
    """Whether ``value`` is an address on the placeholder domain (nobody's mail)."""
    return isinstance(value, str) and value.rpartition("@")[2].lower() == PLACEHOLDER_EMAIL_DOMAIN


def shown_email(value: str | None) -> str:
    """The email a profile shows: ``""`` for none, whether stored as ``""``, ``NULL`` or a
    placeholder, as for a user of Django's own model who never gave one."""
    return "" if value is None or is_placeholder_email(value) else value


def refuse_placeholder_email(value: object) -> None:
    """A validator: an address on the placeholder domain is never a user's own.

    The profile shows such an address as no email at all, so accepting one would answer a
    change with an empty email.
    """
    if is_placeholder_email(value):
        raise ValidationError(_("Enter an email address that can receive mail."), code="invalid")


def is_phone_username(field: models.Field[Any, Any]) -> bool:
    """Whether a new user's login name (``USERNAME_FIELD``) is the phone number itself."""
    return isinstance(field, models.CharField) and not isinstance(field, models.EmailField)


def new_user_values(phone: str, *, suffix: str = "") -> dict[str, Any]:
    """Field values of a new user for ``phone``, beyond the model's defaults.

    The login name (and any other unique, required text field) is the phone; an email
    field takes ``NULL`` where it may, a placeholder where it must be unique and present,
    else the model's blank default. ``suffix`` keeps the phone's values distinct from a
    row that took them first (a user made in the admin, say).
    """
    model = get_user_model()
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if isinstance(field, models.EmailField):
            if field.null:
                values[field.name] = None
            elif field.unique:
                values[field.name] = placeholder_email(phone, suffix)
        elif is_phone_username(field) and (
            field.name == model.USERNAME_FIELD
            or (field.unique and not field.null and not field.has_default())
        ):
            values[field.name] = f"{phone}{suffix}"
    return values


def unfillable_user_fields() -> list[str]:
    """Unique, required user fields that ``new_user_values`` leaves to their default.

    With one of these, only the first phone could sign up: the second would repeat the
    default in a unique column. A default that is a callable (``uuid.uuid4``, say) gives
    each user its own value and is fine.
    """
    filled = set(new_user_values("+0"))
    return [
        field.name
        for field in get_user_model()._meta.concrete_fields
        if field.unique
        and not field.primary_key
        and not field.null
        and field.name not in filled
        and not (field.has_default() and callable(field.default))
    ]
