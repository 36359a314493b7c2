"""Typed settings of the referral program (``REFERRALS_<NAME>``) with their defaults.

Declared like ``phone_auth.conf`` and read lazily, so ``override_settings`` works.
"""

from __future__ import annotations

from phone_auth.conf import AppSettings, Setting, as_int, as_pair, per_window


class ReferralSettings(AppSettings):
    """Settings named ``REFERRALS_<NAME>`` in the host project."""

    prefix = "REFERRALS_"

    INVITEE_BONUS = Setting(100, as_int, text=int, doc="Points for the user who activates a code.")
    INVITER_BONUS = Setting(200, as_int, text=int, doc="Points for the code's owner.")
    PROFILE_REFERRALS_LIMIT = Setting(
        100, as_int, text=int, doc="How many referral phones the profile embeds."
    )
    PROFILE_CACHE_TTL = Setting(
        60,
        as_int,
        text=int,
        doc="Seconds a login's profile answer is kept in Redis (0: never); writes forget it.",
    )
    FAILED_ACTIVATIONS_PER_USER = Setting(
        (10, 3600),
        as_pair,
        text=per_window,
        doc="Failed activations per user per window (count, seconds).",
    )
    FAILED_ACTIVATIONS_PER_IP = Setting(
        (30, 3600),
        as_pair,
        text=per_window,
        doc="Failed activations per client IP per window (count, seconds).",
    )


app_settings = ReferralSettings()
