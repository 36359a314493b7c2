"""The apps' settings read from the standalone service's environment.

Every setting the apps declare (``phone_auth.conf``, ``referrals.conf``) is read from the
environment variable of its own name (``PHONE_AUTH_CODE_TTL``, ``REFERRALS_INVITER_BONUS``)
and also from the older name listed here (``AUTH_CODE_TTL``). When both are set, the
setting's own name wins and the alias is ignored. A mapping setting also takes one entry
from each of its entry aliases (``AUTH_SEND_IP_HOUR`` sets ``ip_hour`` of
``PHONE_AUTH_SEND_LIMITS``), again only when its own name is unset.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

from phone_auth.conf import Entries, PhoneAuthSettings, Setting
from referrals.conf import ReferralSettings

DECLARED: list[Setting[object]] = [*PhoneAuthSettings.declared(), *ReferralSettings.declared()]

ALIASES: dict[str, str] = {
    "PHONE_AUTH_CODE_LENGTH": "AUTH_CODE_LENGTH",
    "PHONE_AUTH_CODE_TTL": "AUTH_CODE_TTL",
    "PHONE_AUTH_CODE_MAX_ATTEMPTS": "AUTH_CODE_MAX_ATTEMPTS",
    "PHONE_AUTH_RESEND_COOLDOWN": "AUTH_RESEND_COOLDOWN",
    "PHONE_AUTH_REGION_SEND_LIMITS": "AUTH_REGION_SEND_LIMITS",
    "PHONE_AUTH_RATE_LIMITS": "AUTH_RATE_LIMITS",
    "PHONE_AUTH_TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "PHONE_AUTH_TRUSTED_PROXY_NETWORKS": "TRUSTED_PROXY_NETWORKS",
    "PHONE_AUTH_EXPOSE_CODES": "AUTH_EXPOSE_CODES",
    "PHONE_AUTH_REFRESH_REUSE_GRACE": "AUTH_REFRESH_REUSE_GRACE",
    "PHONE_AUTH_CODE_HMAC_KEY": "AUTH_CODE_HMAC_KEY",
    "PHONE_AUTH_SMS_BACKEND": "SMS_BACKEND",
    "PHONE_AUTH_SMS_DELAY": "SMS_DELAY",
    "PHONE_AUTH_ALLOWED_REGIONS": "PHONE_ALLOWED_REGIONS",
    "PHONE_AUTH_DENIED_REGIONS": "PHONE_DENIED_REGIONS",
    "PHONE_AUTH_PHONE_TYPES": "PHONE_TYPES",
    "REFERRALS_INVITEE_BONUS": "REFERRAL_INVITEE_BONUS",
    "REFERRALS_INVITER_BONUS": "REFERRAL_INVITER_BONUS",
    "REFERRALS_PROFILE_REFERRALS_LIMIT": "REFERRAL_PROFILE_LIST_LIMIT",
}
"""Older environment names of whole settings."""

_SMS_OPTION_KEYS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM",
    "TWILIO_BASE_URL",
    "SMSAERO_EMAIL",
    "SMSAERO_API_KEY",
    "SMSAERO_SIGN",
    "SMSAERO_BASE_URL",
    "EXOLVE_API_KEY",
    "EXOLVE_SENDER",
    "EXOLVE_BASE_URL",
)

ENTRY_ALIASES: dict[str, dict[str, str]] = {
    "PHONE_AUTH_SEND_LIMITS": {
        name: f"AUTH_SEND_{name.upper()}"
        for name in ("phone_hour", "phone_day", "ip_hour", "phone_all_day", "global_hour")
    },
    "PHONE_AUTH_VERIFY_LIMITS": {
        name: f"AUTH_WRONG_CODES_{name.upper()}"
        for name in ("ip_hour", "phone_day", "ip_phone_day")
    },
    "PHONE_AUTH_SMS_OPTIONS": {key: key for key in _SMS_OPTION_KEYS},
}
"""Older environment names of single entries of mapping settings (entry: variable)."""


def variables(setting: Setting[object]) -> list[str]:
    """The environment variables ``setting`` is read from: its own name first."""
    return [
        setting.name,
        *([ALIASES[setting.name]] if setting.name in ALIASES else []),
        *ENTRY_ALIASES.get(setting.name, {}).values(),
    ]


def _read(setting: Setting[object], variable: str, text: str, key: str | None = None) -> object:
    try:
        if key is None:
            return setting.text(text)
        if not isinstance(setting.text, Entries):
            raise TypeError(f"{setting.name} is not a mapping")
        return setting.text.entry(key, text)
    except (ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"{variable}={text!r} is not valid: {exc}") from exc


def _from_environment(setting: Setting[object], environ: Mapping[str, str]) -> object | None:
    """The setting's value from ``environ``; ``None`` when no variable of it is set."""
    if setting.name in environ:
        return _read(setting, setting.name, environ[setting.name])
    alias = ALIASES.get(setting.name)
    if alias and alias in environ:
        return _read(setting, alias, environ[alias])
    entries = {
        key: _read(setting, variable, environ[variable], key)
        for key, variable in ENTRY_ALIASES.get(setting.name, {}).items()
        if variable in environ
    }
    return entries or None


def app_settings_from_environment(
    environ: Mapping[str, str], defaults: Mapping[str, object]
) -> dict[str, object]:
    """Every app setting, by its Django name, from ``environ`` or else from ``defaults``.

    ``defaults`` holds the service's own defaults where they differ from the app's (a
    mapping read from the environment goes over its default here); a setting in neither
    whose default is another setting (``SECRET_KEY``) is left unset.
    """
    values: dict[str, object] = {}
    for setting in DECLARED:
        value = _from_environment(setting, environ)
        default = defaults.get(setting.name)
        if isinstance(value, dict) and isinstance(default, dict):
            values[setting.name] = {**default, **value}
        elif value is not None:
            values[setting.name] = value
        elif setting.name in defaults:
            values[setting.name] = copy.deepcopy(default)
        elif setting.default_setting is None:
            values[setting.name] = copy.deepcopy(setting.default)
    return values
