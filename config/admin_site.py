"""The admin of the standalone service: open only to a staff member who signed in with a
password on the admin's own login page, which is throttled per account and per address.

A phone sign-in of the web UI (``phone_referrals_web.backends.PhoneCodeBackend``) makes a
session login too; that alone never opens the admin, whatever the user's staff flag says:
whoever holds a staff member's phone for a minute would otherwise hold the admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import BACKEND_SESSION_KEY
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import ngettext

from phone_auth.errors import RateLimitedError
from phone_auth.ratelimit import Budget, client_ip, hit
from phone_referrals_web.backends import PHONE_BACKEND

# Password attempts on the admin login, counted before the password is checked.
ACCOUNT_ATTEMPTS = (5, 15 * 60)  # per account name: 5 every 15 minutes
ADDRESS_ATTEMPTS = (20, 15 * 60)  # per client address: 20 every 15 minutes


def password_backends() -> list[str]:
    """The configured backends that check a password (every one but the phone sign-in)."""
    return [path for path in settings.AUTHENTICATION_BACKENDS if path != PHONE_BACKEND]


def signed_in_with_password(request: HttpRequest) -> bool:
    """Whether the session's login was made by a backend that checked a password."""
    return request.session.get(BACKEND_SESSION_KEY) in password_backends()


def login_budgets(*, username: str, ip: str) -> list[Budget]:
    """The attempt budgets one admin login draws on."""
    return [
        Budget(f"admin-login:account:{username.strip().casefold()}", *ACCOUNT_ATTEMPTS),
        Budget(f"admin-login:ip:{ip}", *ADDRESS_ATTEMPTS),
    ]


def _wait_text(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many sign-in attempts. Try again in %(count)d minute.",
        "Too many sign-in attempts. Try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin's login form; every attempt counts against the account and the address.

    The counters are atomic cache increments (``phone_auth.ratelimit``), so parallel
    guesses cannot pass the budget; once it is spent the form answers with the wait and
    the password is not checked at all.
    """

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and self.cleaned_data.get("password") and self.request is not None:
            budgets = login_budgets(username=str(username), ip=client_ip(self.request))
            try:
                hit(budgets)
            except RateLimitedError as exc:
                raise ValidationError(
                    _wait_text(int(exc.extra["retry_after"])), code="too_many_attempts"
                ) from exc
        return super().clean()


class StaffAdminSite(admin.AdminSite):
    """Django's admin site, open only to staff who signed in here with a password."""

    login_form = ThrottledAdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff and active, as Django asks, and logged in by a password backend."""
        return super().has_permission(request) and signed_in_with_password(request)
