"""The sign-in adapter of the standalone service: new users get an invite code at once."""

from __future__ import annotations

from typing import Any

from phone_auth.adapter import DefaultAdapter
from phone_auth.typing import AuthUser
from referrals.selectors import profile_body, profile_view
from referrals.services import profile_get_or_create


class ReferralAdapter(DefaultAdapter):
    """Gives each new user a referral profile and answers sign-ins with the full profile."""

    def on_signed_up(self, *, user: AuthUser, phone: str) -> None:
        """Give the invite code in the sign-up transaction."""
        profile_get_or_create(user=user)

    def profile_data(self, *, user: AuthUser) -> dict[str, Any]:
        """The same body as ``GET /api/v1/profile/``."""
        return profile_body(profile_view(user=user))
