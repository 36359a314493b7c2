"""Property: ``normalize_phone`` accepts exactly what libphonenumber's own checks accept.

``normalize_phone`` asks libphonenumber for a number's type once and reads validity from it;
whatever the digits, its verdict is the one the library's ``is_valid_number`` and
``number_type`` give asked separately, for every region's numbers and for garbage alike.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from phone_auth.errors import PhoneRegionNotAllowedError
from phone_auth.phones import accepted_types, normalize_phone

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.VOIP,
]


def library_verdict(text: str) -> str:
    """What libphonenumber's public checks, asked one by one, say of ``text``."""
    number = phonenumbers.parse(text.strip(), "RU")
    if number.extension or not phonenumbers.is_valid_number(number):
        return "invalid"
    if phonenumbers.number_type(number) not in accepted_types():
        return "type"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def our_verdict(text: str) -> str:
    try:
        return normalize_phone(text)
    except ValidationError as exc:
        return str(exc.code)


def example_numbers() -> list[str]:
    numbers = []
    for region in REGIONS:
        for kind in TYPES:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.append(phonenumbers.format_number(example, 0))
    return numbers


def test_every_regions_example_numbers_get_the_librarys_verdict(settings):
    settings.PHONE_AUTH_ALLOWED_REGIONS = []
    settings.PHONE_AUTH_DENIED_REGIONS = []
    numbers = example_numbers()
    assert len(numbers) > 1000
    differ = [text for text in numbers if our_verdict(text) != library_verdict(text)]
    assert differ == []


@settings(max_examples=400, deadline=None)
@given(
    prefix=st.sampled_from(["+", "+7", "+1", "+44", "+49", "+86", "8", ""]),
    digits=st.text("0123456789", min_size=1, max_size=14),
)
def test_any_digits_get_the_librarys_verdict(prefix, digits):
    text = prefix + digits
    try:
        expected = library_verdict(text)
    except phonenumbers.NumberParseException:
        expected = "invalid"
    try:
        assert our_verdict(text) == expected
    except PhoneRegionNotAllowedError:  # the default lists: a region decision, not validity
        assert expected != "invalid"
