"""The session login a phone sign-in of the web UI makes.

It never checks a password (``authenticate`` accepts nothing): it only names the session's
login as a phone sign-in, so the admin, which asks for a password, can tell the two apart.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

PHONE_BACKEND = "phone_referrals_web.backends.PhoneCodeBackend"


class PhoneCodeBackend(ModelBackend):
    """Loads the user of a session that signed in with an SMS code."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Nothing signs in through this backend but the code page's ``login``."""
