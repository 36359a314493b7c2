"""The service refuses unsafe production settings; demo mode stays off outside local dev."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.checks import run_checks
from django.test import override_settings

from phone_auth.checks import check_phone_auth

LONG_KEY = "k" * 50
# Variables the test process itself sets (tests/settings.py) that must not leak in.
OURS = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "AUTH_EXPOSE_CODES",
    "AUTH_RATE_LIMITS",
    "JWT_ALGORITHM",
    "JWT_PRIVATE_KEY",
    "SMS_BACKEND",
    "SMS_DELAY",
    "DJANGO_SETTINGS_MODULE",
}


def load_settings(script: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Import ``config.settings`` in a fresh interpreter with exactly ``env`` on top."""
    clean = {name: value for name, value in os.environ.items() if name not in OURS}
    return subprocess.run(
        [sys.executable, "-c", f"import config.settings as s\n{script}"],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_value(expression: str, **env: str) -> object:
    result = load_settings(f"import json; print(json.dumps({expression}))", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(**env: str) -> str:
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    return result.stderr


def test_production_refuses_the_development_secret_key():
    assert "SECRET_KEY" in refused(DEBUG="false", ALLOWED_HOSTS="example.com")


def test_production_refuses_a_short_secret_key():
    assert "SECRET_KEY" in refused(DEBUG="false", SECRET_KEY="short", ALLOWED_HOSTS="example.com")


def test_production_needs_allowed_hosts():
    assert "ALLOWED_HOSTS" in refused(DEBUG="false", SECRET_KEY=LONG_KEY)


def test_production_starts_with_safe_values():
    production = {"DEBUG": "false", "SECRET_KEY": LONG_KEY, "ALLOWED_HOSTS": "example.com"}

    assert settings_value("s.DEBUG", **production) is False
    assert settings_value("s.PHONE_AUTH_EXPOSE_CODES", **production) is False
    assert settings_value("s.SESSION_COOKIE_SECURE", **production) is True


def test_local_development_defaults():
    assert settings_value("s.DEBUG") is True
    assert settings_value("s.PHONE_AUTH_EXPOSE_CODES") == "loopback"
    assert settings_value("s.PHONE_AUTH_SMS_BACKEND") == "console"
    assert settings_value("s.PHONE_AUTH_SMS_DELAY") == "1-2"
    assert settings_value("s.PHONE_AUTH_RATE_LIMITS") is True
    assert settings_value("s.PHONE_AUTH_TRUSTED_PROXIES") == 0


def test_environment_variables_of_the_contract():
    env = {
        "AUTH_EXPOSE_CODES": "false",
        "AUTH_RATE_LIMITS": "off",
        "AUTH_CODE_TTL": "120",
        "AUTH_CODE_MAX_ATTEMPTS": "5",
        "AUTH_RESEND_COOLDOWN": "30",
        "AUTH_REFRESH_REUSE_GRACE": "3",
        "TRUSTED_PROXIES": "2",
        "SMS_BACKEND": "locmem",
        "SMS_DELAY": "0",
    }
    names = [
        "EXPOSE_CODES",
        "RATE_LIMITS",
        "CODE_TTL",
        "CODE_MAX_ATTEMPTS",
        "RESEND_COOLDOWN",
        "REFRESH_REUSE_GRACE",
        "TRUSTED_PROXIES",
        "SMS_BACKEND",
        "SMS_DELAY",
    ]
    values = settings_value("[" + ", ".join(f"s.PHONE_AUTH_{n}" for n in names) + "]", **env)

    assert values == [False, False, 120, 5, 30, 3, 2, "locmem", "0"]


def test_a_key_pair_algorithm_needs_its_private_key():
    assert "JWT_PRIVATE_KEY" in refused(JWT_ALGORITHM="RS256")


def test_the_verifying_key_comes_from_the_private_key():
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    verifying = settings_value(
        's.SIMPLE_JWT["VERIFYING_KEY"]', JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=private
    )

    assert str(verifying).startswith("-----BEGIN PUBLIC KEY-----")


# --- System checks ---------------------------------------------------------------------------


def check_ids() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True)}


def test_demo_mode_with_debug_off_is_flagged():
    with override_settings(PHONE_AUTH_EXPOSE_CODES=True, DEBUG=False):
        assert "phone_auth.W001" in check_ids()
    with override_settings(PHONE_AUTH_EXPOSE_CODES=False, DEBUG=False):
        assert "phone_auth.W001" not in check_ids()
    with override_settings(PHONE_AUTH_EXPOSE_CODES=True, DEBUG=True):
        assert "phone_auth.W001" not in check_ids()


@pytest.mark.parametrize(
    ("safe", "unsafe", "check_id"),
    [
        ({"PHONE_AUTH_CODE_LENGTH": 4}, {"PHONE_AUTH_CODE_LENGTH": 3}, "phone_auth.E001"),
        ({"PHONE_AUTH_CODE_LENGTH": 10}, {"PHONE_AUTH_CODE_LENGTH": 11}, "phone_auth.E001"),
        (
            {"PHONE_AUTH_CODE_MAX_ATTEMPTS": 1},
            {"PHONE_AUTH_CODE_MAX_ATTEMPTS": 0},
            "phone_auth.E002",
        ),
        ({"DEBUG": True}, {"DEBUG": False}, "phone_auth.W002"),
        (
            {"PHONE_AUTH_SMS_BACKEND": "locmem"},
            {"PHONE_AUTH_SMS_BACKEND": "pigeon"},
            "phone_auth.E003",
        ),
    ],
)
def test_unsafe_or_broken_settings_are_flagged(safe, unsafe, check_id):
    with override_settings(**{"PHONE_AUTH_SMS_BACKEND": "console", **safe}):
        assert check_id not in check_ids()
    with override_settings(**{"PHONE_AUTH_SMS_BACKEND": "console", **unsafe}):
        assert check_id in check_ids()


@pytest.mark.parametrize("value", ["abc", "1-x", "-1", ""])
def test_a_malformed_sms_delay_is_a_configuration_error(value):
    with override_settings(PHONE_AUTH_SMS_DELAY=value):
        assert "phone_auth.E005" in {problem.id for problem in check_phone_auth()}


@pytest.mark.parametrize("value", ["0", "1-2", "0.2-0.3", "1.5"])
def test_a_well_formed_sms_delay_passes(value):
    with override_settings(PHONE_AUTH_SMS_DELAY=value):
        assert "phone_auth.E005" not in {problem.id for problem in check_phone_auth()}


def test_budgets_one_client_could_spend_alone_are_flagged():
    with override_settings(PHONE_AUTH_VERIFY_LIMITS={"ip_phone_day": (30, 86400)}):
        assert "phone_auth.W003" in check_ids()
    with override_settings(PHONE_AUTH_SEND_LIMITS={"phone_day": (20, 86400)}):
        assert "phone_auth.W003" in check_ids()
    assert "phone_auth.W003" not in check_ids()


def test_unknown_number_types_are_refused():
    with override_settings(PHONE_AUTH_PHONE_TYPES=["MOBILE", "CELLULAR"]):
        assert "phone_auth.E006" in check_ids()
    assert "phone_auth.E006" not in check_ids()


def test_budget_and_number_type_variables():
    env = {
        "AUTH_SEND_IP_HOUR": "7",
        "AUTH_WRONG_CODES_PHONE_DAY": "40",
        "AUTH_REGION_SEND_LIMITS": "RU=500,KZ=100",
        "PHONE_DENIED_REGIONS": "KZ,BY",
        "PHONE_TYPES": "MOBILE",
    }
    assert settings_value("s.PHONE_AUTH_SEND_LIMITS['ip_hour']", **env) == [7, 3600]
    assert settings_value("s.PHONE_AUTH_VERIFY_LIMITS['phone_day']", **env) == [40, 86400]
    assert settings_value("s.PHONE_AUTH_REGION_SEND_LIMITS", **env) == {"RU": 500, "KZ": 100}
    assert settings_value("s.PHONE_AUTH_DENIED_REGIONS", **env) == ["KZ", "BY"]
    assert settings_value("s.PHONE_AUTH_PHONE_TYPES", **env) == ["MOBILE"]
