"""Input building blocks shared by the API: strict bodies, phone and code fields.

``StrictSerializer`` makes unknown and read-only keys a validation error, because the
contract says nothing in a write body is silently ignored.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from phone_auth.codes import normalize_code
from phone_auth.phones import normalize_phone


def reject_unknown_fields(serializer: serializers.Serializer, data: Any) -> None:
    """Raise a field error for every key that is not a writable field of ``serializer``."""
    if not isinstance(data, dict):
        return
    writable = {name for name, field in serializer.fields.items() if not field.read_only}
    unknown = [key for key in data if key not in writable]
    if unknown:
        # A key is echoed back: one with lone surrogates could not be encoded as UTF-8.
        raise serializers.ValidationError(
            {
                str(key).encode("utf-8", "replace").decode(): [_("This field cannot be set.")]
                for key in unknown
            }
        )


class StrictSerializer(serializers.Serializer):
    """A serializer whose input may hold only its writable fields."""

    def to_internal_value(self, data: Any) -> Any:
        """Check for unknown keys before field validation."""
        reject_unknown_fields(self, data)
        return super().to_internal_value(data)


class JsonStringMixin:
    """A text field that takes only a JSON string: a number or a boolean is an error."""

    def to_internal_value(self, data: Any) -> Any:
        """Refuse non-strings instead of converting them (DRF would store ``0`` as ``"0"``)."""
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class StringField(JsonStringMixin, serializers.CharField):
    """``CharField`` for JSON strings only."""


class EmailStringField(JsonStringMixin, serializers.EmailField):
    """``EmailField`` for JSON strings only."""


class PhoneField(serializers.Field):
    """A phone number typed any usual way; validated to E.164 (a JSON string only).

    Numbers of a type that cannot receive an SMS code are refused with their own message.
    """

    default_error_messages = {"invalid": _("Enter a valid phone number.")}

    def to_internal_value(self, data: Any) -> str:
        """Parse and normalise."""
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return normalize_phone(data)
        except DjangoValidationError as exc:
            if exc.code == "invalid":
                self.fail("invalid")
            raise serializers.ValidationError(list(exc.messages), code=exc.code) from exc

    def to_representation(self, value: Any) -> str:
        """E.164 text."""
        return str(value)


class CodeField(serializers.Field):
    """The sign-in code: exactly ``CODE_LENGTH`` ASCII digits, as a JSON string."""

    def to_internal_value(self, data: Any) -> str:
        """Accept only ASCII digits of the configured length (surrounding spaces trimmed)."""
        try:
            return normalize_code(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages), code=exc.code) from exc

    def to_representation(self, value: Any) -> str:
        """Never shown."""
        return ""
