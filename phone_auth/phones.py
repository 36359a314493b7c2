"""The one place that turns what a person typed into an E.164 phone number.

The API serializers and the web forms both call ``normalize_phone`` so a number is
read the same way everywhere: libphonenumber's rules, the default region for numbers
without a country prefix, the number types that can receive an SMS (no premium-rate,
toll-free or landline numbers by default), and the optional allow- and deny-lists of
regions.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from phone_auth.conf import app_settings
from phone_auth.errors import PhoneRegionNotAllowedError

MAX_PHONE_INPUT = 32
# What people type: ASCII digits, an optional leading plus, spaces, dots, dashes, brackets.
_PHONE_CHARS = re.compile(r"\+?[0-9 ().\-]+", re.ASCII)


def accepted_types() -> set[int]:
    """The ``PhoneNumberType`` values of ``PHONE_AUTH_PHONE_TYPES`` (unknown names ignored)."""
    return {
        getattr(phonenumbers.PhoneNumberType, name)
        for name in app_settings.PHONE_TYPES
        if isinstance(getattr(phonenumbers.PhoneNumberType, name, None), int)
    }


def phone_region(e164: str) -> str:
    """The ISO region of an E.164 number (``"ZZ"`` when libphonenumber knows none)."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or "ZZ"


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of ``raw`` or raise ``ValidationError``.

    Raises ``PhoneRegionNotAllowedError`` for a valid number outside the allow-list or in
    the deny-list.
    """
    text = raw.strip()
    if len(text) > MAX_PHONE_INPUT or not _PHONE_CHARS.fullmatch(text):
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    region = getattr(settings, "PHONENUMBER_DEFAULT_REGION", None) or "RU"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number."), code="invalid") from exc
    # A number is valid exactly when libphonenumber finds it a type (``is_valid_number``
    # is that test, after looking the region up from the number as ``number_type`` does):
    # asked once, the type is matched once, and every send-code parses a phone.
    kind = phonenumbers.number_type(number)
    if number.extension or kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValidationError(_("Enter a valid phone number."), code="invalid")
    region = phonenumbers.region_code_for_number(number)
    allowed = app_settings.ALLOWED_REGIONS
    if (allowed and region not in allowed) or region in app_settings.DENIED_REGIONS:
        raise PhoneRegionNotAllowedError()
    if kind not in accepted_types():
        raise ValidationError(_("This number cannot receive an SMS code."), code="type")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
