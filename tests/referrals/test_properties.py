"""Property: any sequence of activations among a few users answers exactly as the rules
say, keeps every balance equal to its ledger sum and keeps the inviter graph acyclic."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phone_auth.errors import ApplicationError
from referrals.models import Referral
from referrals.services import invite_activate
from tests.referrals.support import (
    assert_acyclic,
    assert_balances_match_ledger,
    code_of,
    points_of,
)

pytestmark = pytest.mark.django_db

USERS = 5
UNKNOWN = USERS  # stands for a code nobody has

steps = st.lists(
    st.tuples(st.integers(0, USERS - 1), st.integers(0, USERS)), min_size=1, max_size=14
)


def expected_outcome(parent: dict[int, int], invitee: int, owner: int) -> str:
    """What the rules say about ``invitee`` activating ``owner``'s code."""
    if invitee in parent:
        return "invite_already_activated"
    if owner == UNKNOWN:
        return "invite_code_not_found"
    if owner == invitee:
        return "own_invite_code"
    node: int | None = owner
    while node is not None:
        if node == invitee:
            return "invite_cycle"
        node = parent.get(node)
    return "ok"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_random_activation_sequences_follow_the_rules(make_user, settings_rate_limits_off, steps):
    with transaction.atomic():
        users = [make_user() for _ in range(USERS)]
        codes = [code_of(user) for user in users] + ["ZZZZZZ"]
        parent: dict[int, int] = {}
        for invitee, owner in steps:
            expected = expected_outcome(parent, invitee, owner)
            try:
                invite_activate(user=users[invitee], code=codes[owner].lower())
                outcome = "ok"
            except ApplicationError as exc:
                outcome = exc.code
            assert outcome == expected, (invitee, owner, parent)
            if outcome == "ok":
                parent[invitee] = owner

        for index, user in enumerate(users):
            invited = sum(1 for owner in parent.values() if owner == index)
            assert points_of(user) == 100 * (index in parent) + 200 * invited
        assert Referral.objects.count() == len(parent)
        assert_balances_match_ledger()
        assert_acyclic()
        transaction.set_rollback(True)


@pytest.fixture
def settings_rate_limits_off(settings):
    """Failures are part of the property; the failure budgets are not."""
    settings.PHONE_AUTH_RATE_LIMITS = False
