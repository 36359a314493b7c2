"""Referral program: invite codes, activation, the points ledger and the profile API."""

from phone_auth import __version__

__all__ = ["__version__"]
