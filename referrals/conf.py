"""Typed settings of the referral program (``REFERRALS_<NAME>``) with their defaults."""

from __future__ import annotations

from django.conf import settings


class AppSettings:
    """Read lazily so ``override_settings`` works."""

    @property
    def INVITEE_BONUS(self) -> int:
        """Points for the user who activates a code."""
        return int(getattr(settings, "REFERRALS_INVITEE_BONUS", 100))

    @property
    def INVITER_BONUS(self) -> int:
        """Points for the code's owner."""
        return int(getattr(settings, "REFERRALS_INVITER_BONUS", 200))

    @property
    def PROFILE_REFERRALS_LIMIT(self) -> int:
        """How many referral phones the profile embeds."""
        return int(getattr(settings, "REFERRALS_PROFILE_REFERRALS_LIMIT", 100))

    @property
    def FAILED_ACTIVATIONS_PER_USER(self) -> tuple[int, int]:
        """Failed activations per user per window (count, seconds)."""
        value = getattr(settings, "REFERRALS_FAILED_ACTIVATIONS_PER_USER", (10, 3600))
        return (int(value[0]), int(value[1]))

    @property
    def FAILED_ACTIVATIONS_PER_IP(self) -> tuple[int, int]:
        """Failed activations per client IP per window (count, seconds)."""
        value = getattr(settings, "REFERRALS_FAILED_ACTIVATIONS_PER_IP", (30, 3600))
        return (int(value[0]), int(value[1]))

    @property
    def USER_ADMIN(self) -> bool:
        """Replace the admin of Django's ``User`` with one showing phone, code and points.

        Off by default: installing the app leaves a host's user admin alone.
        """
        return bool(getattr(settings, "REFERRALS_USER_ADMIN", False))


app_settings = AppSettings()
