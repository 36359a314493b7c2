"""With DEBUG off the service refuses weak token and code keys, as it refuses a weak SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "ALLOWED_HOSTS": "example.com",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}
# Variables of the test process that would change what the settings read.
OURS = {*PRODUCTION, "AUTH_EXPOSE_CODES", "AUTH_RATE_LIMITS", "JWT_ALGORITHM", "JWT_PRIVATE_KEY"}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import ``config.settings`` in a fresh interpreter with production values and ``env``."""
    clean = {name: value for name, value in os.environ.items() if name not in OURS}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=settings.BASE_DIR,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", ["JWT_SIGNING_KEY", "AUTH_CODE_HMAC_KEY"])
@pytest.mark.parametrize("value", ["", "short-key"])
def test_a_weak_key_is_refused(name: str, value: str) -> None:
    result = load_settings(**{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_keys_left_unset_fall_back_to_the_secret_key() -> None:
    result = load_settings()

    assert result.returncode == 0, result.stderr
