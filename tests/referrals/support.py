"""Helpers of the referral tests: a user's invite code and balance, and checks of the two
invariants (balances equal ledgers, no inviter cycle). Users and signed-in clients come from
``make_user`` and ``client_for`` of ``tests/conftest.py``."""

from __future__ import annotations

from typing import Any

from referrals.models import Profile, Referral
from referrals.selectors import points_mismatches


def code_of(user: Any) -> str:
    """The user's own invite code."""
    return Profile.objects.get(user=user).invite_code


def points_of(user: Any) -> int:
    """The user's cached balance."""
    return Profile.objects.get(user=user).points


def assert_balances_match_ledger() -> None:
    """Every cached balance equals its ledger sum."""
    assert list(points_mismatches()) == []


def assert_acyclic() -> None:
    """Following inviters from any user ends at someone nobody invited."""
    parent = dict(
        Referral.objects.filter(invitee__isnull=False, inviter__isnull=False).values_list(
            "invitee_id", "inviter_id"
        )
    )
    for start in parent:
        seen = {start}
        node = parent[start]
        while node in parent:
            assert node not in seen, f"cycle through user {node}"
            seen.add(node)
            node = parent[node]
