"""One name per setting: the service reads each app setting from its own environment name.

Every setting the apps declare is read from the variable of the same name and from its
older alias (the names of the contract's table); the own name wins when both are set; the
README's reference table lists every setting with both names.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import override_settings

from config.environment import ALIASES, DECLARED, ENTRY_ALIASES, variables

ROOT = Path(settings.BASE_DIR)
LONG_KEY = "h" * 40

# The setting's own variable: its text and the value the service's settings then hold.
CANONICAL: dict[str, tuple[str, object]] = {
    "PHONE_AUTH_CODE_LENGTH": ("6", 6),
    "PHONE_AUTH_CODE_TTL": ("120", 120),
    "PHONE_AUTH_CODE_MAX_ATTEMPTS": ("5", 5),
    "PHONE_AUTH_RESEND_COOLDOWN": ("30", 30),
    "PHONE_AUTH_SEND_LIMITS": (
        "ip_hour=7, phone_day=9/600",
        {"ip_hour": [7, 3600], "phone_day": [9, 600]},
    ),
    "PHONE_AUTH_REGION_SEND_LIMITS": ("RU=500,kz=100", {"RU": 500, "KZ": 100}),
    "PHONE_AUTH_VERIFY_LIMITS": ("ip_phone_day=4", {"ip_phone_day": [4, 86400]}),
    "PHONE_AUTH_RATE_LIMITS": ("off", False),
    "PHONE_AUTH_TRUSTED_PROXIES": ("2", 2),
    "PHONE_AUTH_TRUSTED_PROXY_NETWORKS": (
        "10.0.0.0/8, 192.168.0.0/16",
        ["10.0.0.0/8", "192.168.0.0/16"],
    ),
    "PHONE_AUTH_EXPOSE_CODES": ("true", True),
    "PHONE_AUTH_REFRESH_REUSE_GRACE": ("3", 3),
    "PHONE_AUTH_CODE_HMAC_KEY": (LONG_KEY, LONG_KEY),
    "PHONE_AUTH_SMS_BACKEND": ("locmem", "locmem"),
    "PHONE_AUTH_SMS_DELAY": ("0", "0"),
    "PHONE_AUTH_SMS_OPTIONS": (
        "TWILIO_ACCOUNT_SID=AC1,TWILIO_FROM=+15550000000",
        {"SMSAERO_SIGN": "SMS Aero", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_FROM": "+15550000000"},
    ),
    "PHONE_AUTH_SMS_TIMEOUT": ("2.5", 2.5),
    "PHONE_AUTH_ALLOWED_REGIONS": ("RU,KZ", ["RU", "KZ"]),
    "PHONE_AUTH_DENIED_REGIONS": ("BY", ["BY"]),
    "PHONE_AUTH_PHONE_TYPES": ("MOBILE", ["MOBILE"]),
    "PHONE_AUTH_ADAPTER": (
        "phone_auth.adapter.DefaultAdapter",
        "phone_auth.adapter.DefaultAdapter",
    ),
    "REFERRALS_INVITEE_BONUS": ("7", 7),
    "REFERRALS_INVITER_BONUS": ("8", 8),
    "REFERRALS_PROFILE_REFERRALS_LIMIT": ("9", 9),
    "REFERRALS_PROFILE_CACHE_TTL": ("5", 5),
    "REFERRALS_FAILED_ACTIVATIONS_PER_USER": ("5/60", [5, 60]),
    "REFERRALS_FAILED_ACTIVATIONS_PER_IP": ("6/120", [6, 120]),
}

# Every older name at once, and what the settings then hold.
ALIASED: dict[str, str] = {
    "AUTH_CODE_LENGTH": "6",
    "AUTH_CODE_TTL": "120",
    "AUTH_CODE_MAX_ATTEMPTS": "5",
    "AUTH_RESEND_COOLDOWN": "30",
    "AUTH_SEND_PHONE_HOUR": "1",
    "AUTH_SEND_PHONE_DAY": "2",
    "AUTH_SEND_IP_HOUR": "3",
    "AUTH_SEND_PHONE_ALL_DAY": "4",
    "AUTH_SEND_GLOBAL_HOUR": "5",
    "AUTH_REGION_SEND_LIMITS": "RU=500,KZ=100",
    "AUTH_WRONG_CODES_IP_HOUR": "6",
    "AUTH_WRONG_CODES_PHONE_DAY": "7",
    "AUTH_WRONG_CODES_IP_PHONE_DAY": "8",
    "AUTH_RATE_LIMITS": "off",
    "TRUSTED_PROXIES": "2",
    "TRUSTED_PROXY_NETWORKS": "10.0.0.0/8",
    "AUTH_EXPOSE_CODES": "false",
    "AUTH_REFRESH_REUSE_GRACE": "3",
    "AUTH_CODE_HMAC_KEY": LONG_KEY,
    "SMS_BACKEND": "locmem",
    "SMS_DELAY": "0",
    "PHONE_ALLOWED_REGIONS": "RU",
    "PHONE_DENIED_REGIONS": "BY,KZ",
    "PHONE_TYPES": "MOBILE",
    "REFERRAL_INVITEE_BONUS": "7",
    "REFERRAL_INVITER_BONUS": "8",
    "REFERRAL_PROFILE_LIST_LIMIT": "9",
    **{key: f"{key.lower()}-value" for key in ENTRY_ALIASES["PHONE_AUTH_SMS_OPTIONS"]},
}
ALIASED_VALUES: dict[str, object] = {
    "PHONE_AUTH_CODE_LENGTH": 6,
    "PHONE_AUTH_CODE_TTL": 120,
    "PHONE_AUTH_CODE_MAX_ATTEMPTS": 5,
    "PHONE_AUTH_RESEND_COOLDOWN": 30,
    "PHONE_AUTH_SEND_LIMITS": {
        "phone_hour": [1, 3600],
        "phone_day": [2, 86400],
        "ip_hour": [3, 3600],
        "phone_all_day": [4, 86400],
        "global_hour": [5, 3600],
    },
    "PHONE_AUTH_REGION_SEND_LIMITS": {"RU": 500, "KZ": 100},
    "PHONE_AUTH_VERIFY_LIMITS": {
        "ip_hour": [6, 3600],
        "phone_day": [7, 86400],
        "ip_phone_day": [8, 86400],
    },
    "PHONE_AUTH_RATE_LIMITS": False,
    "PHONE_AUTH_TRUSTED_PROXIES": 2,
    "PHONE_AUTH_TRUSTED_PROXY_NETWORKS": ["10.0.0.0/8"],
    "PHONE_AUTH_EXPOSE_CODES": False,
    "PHONE_AUTH_REFRESH_REUSE_GRACE": 3,
    "PHONE_AUTH_CODE_HMAC_KEY": LONG_KEY,
    "PHONE_AUTH_SMS_BACKEND": "locmem",
    "PHONE_AUTH_SMS_DELAY": "0",
    "PHONE_AUTH_ALLOWED_REGIONS": ["RU"],
    "PHONE_AUTH_DENIED_REGIONS": ["BY", "KZ"],
    "PHONE_AUTH_PHONE_TYPES": ["MOBILE"],
    "PHONE_AUTH_SMS_OPTIONS": {
        key: f"{key.lower()}-value" for key in ENTRY_ALIASES["PHONE_AUTH_SMS_OPTIONS"]
    },
    "REFERRALS_INVITEE_BONUS": 7,
    "REFERRALS_INVITER_BONUS": 8,
    "REFERRALS_PROFILE_REFERRALS_LIMIT": 9,
}


def service_settings(names: list[str], script: str = "", **env: str) -> dict[str, Any]:
    """``names`` of ``config.settings`` imported in a fresh interpreter with only ``env`` set.

    No variable of an app setting leaks in from the test process (tests/settings.py sets
    some); ``script`` may add entries to the printed dict ``out``.
    """
    ours = {"DEBUG", "DJANGO_SETTINGS_MODULE"} | {
        name for setting in DECLARED for name in variables(setting)
    }
    clean = {name: value for name, value in os.environ.items() if name not in ours}
    code = (
        "import json\nimport config.settings as s\n"
        f"out = {{name: getattr(s, name) for name in {names!r}}}\n{script}\n"
        "print(json.dumps(out))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_the_samples_cover_every_setting_and_every_alias():
    declared = {setting.name for setting in DECLARED}
    aliases = set(ALIASES.values()) | {
        variable for entries in ENTRY_ALIASES.values() for variable in entries.values()
    }

    assert set(CANONICAL) == declared
    assert set(ALIASED) == aliases
    assert set(ALIASES) | set(ENTRY_ALIASES) <= declared


def test_every_setting_is_read_from_the_variable_of_its_own_name():
    env = {name: text for name, (text, _value) in CANONICAL.items()}

    values = service_settings(list(CANONICAL), **env)

    assert values == {name: value for name, (_text, value) in CANONICAL.items()}


def test_every_setting_is_read_from_its_older_alias():
    values = service_settings(list(ALIASED_VALUES), **ALIASED)

    assert values == ALIASED_VALUES


def test_the_own_name_wins_over_the_alias():
    env = {
        "AUTH_CODE_TTL": "120",
        "PHONE_AUTH_CODE_TTL": "90",
        "SMS_BACKEND": "console",
        "PHONE_AUTH_SMS_BACKEND": "locmem",
        "AUTH_SEND_IP_HOUR": "3",
        "PHONE_AUTH_SEND_LIMITS": "phone_hour=2",
    }
    names = ["PHONE_AUTH_CODE_TTL", "PHONE_AUTH_SMS_BACKEND", "PHONE_AUTH_SEND_LIMITS"]

    values = service_settings(names, **env)

    assert values == {
        "PHONE_AUTH_CODE_TTL": 90,
        "PHONE_AUTH_SMS_BACKEND": "locmem",
        "PHONE_AUTH_SEND_LIMITS": {"phone_hour": [2, 3600]},
    }


def test_the_apps_read_the_service_values_typed():
    script = (
        "import django; django.setup()\n"
        "from phone_auth.conf import app_settings\n"
        "from referrals.conf import app_settings as referral_settings\n"
        "out['send'] = app_settings.SEND_LIMITS\n"
        "out['networks'] = [str(n) for n in app_settings.TRUSTED_PROXY_NETWORKS]\n"
        "out['delay'] = app_settings.SMS_DELAY\n"
        "out['per_ip'] = referral_settings.FAILED_ACTIVATIONS_PER_IP\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PHONE_AUTH_SEND_LIMITS": "ip_hour=7",
        "TRUSTED_PROXY_NETWORKS": "10.0.0.0/8,::1",
        "PHONE_AUTH_SMS_DELAY": "2-1",
        "REFERRALS_FAILED_ACTIVATIONS_PER_IP": "3/60",
    }

    values = service_settings([], script, **env)

    assert values["send"] == {
        "phone_hour": [5, 3600],
        "phone_day": [10, 86400],
        "ip_hour": [7, 3600],
        "phone_all_day": [20, 86400],
        "global_hour": [1000, 3600],
    }
    assert values["networks"] == ["10.0.0.0/8", "::1/128"]
    assert values["delay"] == [1.0, 2.0]
    assert values["per_ip"] == [3, 60]


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("PHONE_AUTH_CODE_TTL", "soon"),
        ("AUTH_SEND_IP_HOUR", "many"),
        ("PHONE_AUTH_SEND_LIMITS", "per_week=3"),
        ("AUTH_REGION_SEND_LIMITS", "RU"),
        ("REFERRALS_FAILED_ACTIVATIONS_PER_USER", "10"),
    ],
)
def test_a_malformed_value_names_its_variable(variable, text):
    ours = {name for setting in DECLARED for name in variables(setting)}
    clean = {name: value for name, value in os.environ.items() if name not in ours}
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**clean, variable: text},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


# --- The reference table ---------------------------------------------------------------------


def reference_rows(readme: str) -> dict[str, tuple[str, str]]:
    """Rows of the settings table: setting -> (variables cell, default cell)."""
    text = (ROOT / readme).read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`((?:PHONE_AUTH|REFERRALS)_[A-Z_]+)`", cells[0])
        if line.startswith("|") and len(cells) == 4 and match:
            rows[match.group(1)] = (cells[1], cells[2])
    return rows


@pytest.mark.parametrize("readme", ["README.md", "README.ru.md"])
def test_the_reference_table_lists_every_setting_with_its_names_and_default(readme):
    rows = reference_rows(readme)

    assert set(rows) == {setting.name for setting in DECLARED}
    for setting in DECLARED:
        names, default = rows[setting.name]
        assert re.findall(r"`([A-Z_]+)`", names) == variables(setting), setting.name
        if isinstance(setting.default, bool | int | float | str):
            shown = (
                f"{setting.default:g}" if isinstance(setting.default, float) else setting.default
            )
            assert f"`{shown}`" in default, setting.name


# --- The apps speak of their settings, not of the service's variables -------------------------


def test_the_demo_mode_warning_names_the_setting(caplog):
    with override_settings(PHONE_AUTH_EXPOSE_CODES=True), caplog.at_level(logging.WARNING):
        apps.get_app_config("phone_auth").ready()

    assert "PHONE_AUTH_EXPOSE_CODES" in caplog.text
    assert "AUTH_EXPOSE_CODES=" not in caplog.text
