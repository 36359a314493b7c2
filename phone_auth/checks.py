"""System checks that refuse a dangerous configuration of phone sign-in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from phone_auth.conf import app_settings
from phone_auth.sms import ALIASES, get_backend
from phone_auth.users import unfillable_user_fields


def _options_hint(backend: str) -> str | None:
    """The ``PHONE_AUTH_SMS_OPTIONS`` line a provider needs, with its keys."""
    try:
        klass = import_string(ALIASES.get(backend, backend))
    except ImportError:
        return None
    required = getattr(klass, "required_options", ())
    if not required:
        return None
    keys = ", ".join(f'"{name}": "..."' for name in required)
    return f"Set PHONE_AUTH_SMS_OPTIONS = {{{keys}}} in your settings."


def _check_user_model() -> list[Any]:
    """A unique, required user field the adapter leaves blank lets one phone sign up only."""
    from phone_auth.adapter import DefaultAdapter

    try:
        adapter = import_string(app_settings.ADAPTER)
    except ImportError as exc:
        return [Error(f"PHONE_AUTH_ADAPTER cannot be imported: {exc}", id="phone_auth.E006")]
    fields = unfillable_user_fields()
    if not fields or getattr(adapter, "new_user", None) is not DefaultAdapter.new_user:
        return []
    label = get_user_model()._meta.label
    return [
        Warning(
            f"{label} has unique, required fields that a phone sign-up cannot fill: "
            f"{', '.join(fields)}. Sign-ups would fail on them (all, or all but the first).",
            hint="Give them a default or null=True, or point PHONE_AUTH_ADAPTER at a "
            "subclass of phone_auth.adapter.DefaultAdapter whose new_user() fills them.",
            id="phone_auth.W003",
        )
    ]


@register(Tags.security)
def check_phone_auth(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Codes must not be exposed in production; the code length and limits must be sane."""
    problems: list[Any] = []
    if app_settings.EXPOSE_CODES is True and not settings.DEBUG:
        problems.append(
            Warning(
                "Demo mode (PHONE_AUTH_EXPOSE_CODES) is on with DEBUG off: every answer to "
                "send-code carries the code, for every client.",
                hint="Set PHONE_AUTH_EXPOSE_CODES = False outside demos.",
                id="phone_auth.W001",
            )
        )
    if not 4 <= app_settings.CODE_LENGTH <= 10:
        problems.append(
            Error("PHONE_AUTH_CODE_LENGTH must be between 4 and 10.", id="phone_auth.E001")
        )
    if app_settings.CODE_MAX_ATTEMPTS < 1:
        problems.append(
            Error("PHONE_AUTH_CODE_MAX_ATTEMPTS must be at least 1.", id="phone_auth.E002")
        )
    if app_settings.SMS_BACKEND in ("console", "locmem") and not settings.DEBUG:
        problems.append(
            Warning(
                f"PHONE_AUTH_SMS_BACKEND = {app_settings.SMS_BACKEND!r} with DEBUG off: "
                "no real SMS is sent.",
                hint="Choose a provider: PHONE_AUTH_SMS_BACKEND = 'twilio', 'smsaero' or "
                "'exolve', with its PHONE_AUTH_SMS_OPTIONS.",
                id="phone_auth.W002",
            )
        )
    if app_settings.SMS_BACKEND not in ALIASES and "." not in app_settings.SMS_BACKEND:
        problems.append(
            Error(
                f"Unknown PHONE_AUTH_SMS_BACKEND {app_settings.SMS_BACKEND!r}.",
                hint=f"Use one of {', '.join(ALIASES)} or a dotted path.",
                id="phone_auth.E003",
            )
        )
    else:
        try:
            get_backend()
        except (ImproperlyConfigured, ImportError) as exc:
            problems.append(
                Error(
                    f"PHONE_AUTH_SMS_BACKEND = {app_settings.SMS_BACKEND!r} cannot be used: {exc}",
                    hint=_options_hint(app_settings.SMS_BACKEND),
                    id="phone_auth.E004",
                )
            )
    problems.extend(_check_user_model())
    try:
        low, _high = app_settings.SMS_DELAY
        valid_delay = low >= 0
    except ValueError:
        valid_delay = False
    if not valid_delay:
        problems.append(
            Error(
                "PHONE_AUTH_SMS_DELAY must be seconds or a range of seconds, like "
                '"0", "1.5" or "1-2".',
                id="phone_auth.E005",
            )
        )
    problems += _budget_problems()
    return problems


def _budget_problems() -> list[Any]:
    """Budgets that would let one client spend what protects everyone else."""
    import phonenumbers

    problems: list[Any] = []
    unknown = [
        name
        for name in app_settings.PHONE_TYPES
        if not isinstance(getattr(phonenumbers.PhoneNumberType, name, None), int)
    ]
    if unknown:
        problems.append(
            Error(
                f"PHONE_AUTH_PHONE_TYPES names unknown number types: {', '.join(unknown)}.",
                hint="Use libphonenumber's PhoneNumberType names, like MOBILE.",
                id="phone_auth.E006",
            )
        )
    verify, send = app_settings.VERIFY_LIMITS, app_settings.SEND_LIMITS
    for limits, own, shared, setting in (
        (verify, "ip_phone_day", "phone_day", "PHONE_AUTH_VERIFY_LIMITS"),
        (send, "phone_day", "phone_all_day", "PHONE_AUTH_SEND_LIMITS"),
    ):
        if own in limits and shared in limits and limits[own][0] >= limits[shared][0]:
            problems.append(
                Warning(
                    f"{setting}: {own} is not below {shared}, so one client can spend a "
                    "phone's whole budget and lock its owner out.",
                    id="phone_auth.W003",
                )
            )
    return problems
