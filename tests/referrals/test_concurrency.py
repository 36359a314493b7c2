"""Parallel activations on real PostgreSQL connections: never two awards for one user,
never a lost award, never a cycle, whatever the interleaving."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import connection

from phone_auth.errors import ApplicationError
from referrals.models import PointsEntry, Referral
from referrals.services import invite_activate
from tests.referrals.support import (
    assert_acyclic,
    assert_balances_match_ledger,
    code_of,
    points_of,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_parallel(calls: Sequence[Callable[[], Any]]) -> list[str]:
    """Start every call at once, each on its own thread and connection; their outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except ApplicationError as exc:
            outcomes[index] = exc.code
        except Exception as exc:
            outcomes[index] = f"unexpected {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def activation(user: Any, code: str) -> Callable[[], Any]:
    return lambda: invite_activate(user=user, code=code, ip="10.0.0.1")


def test_one_user_activating_fifty_codes_at_once_gets_one_inviter(make_user):
    user = make_user()
    inviters = [make_user() for _ in range(50)]

    outcomes = run_in_parallel([activation(user, code_of(inviter)) for inviter in inviters])

    assert Counter(outcomes) == {"ok": 1, "invite_already_activated": 49}
    referral = Referral.objects.get(invitee=user)
    winner = next(i for i, outcome in enumerate(outcomes) if outcome == "ok")
    assert referral.inviter_id == inviters[winner].pk
    assert points_of(user) == 100
    assert PointsEntry.objects.filter(user=user).count() == 1
    assert sum(points_of(inviter) for inviter in inviters) == 200
    assert_balances_match_ledger()


def test_fifty_users_activating_one_code_at_once_all_count(make_user):
    inviter = make_user()
    invitees = [make_user() for _ in range(50)]
    code = code_of(inviter)

    outcomes = run_in_parallel([activation(invitee, code) for invitee in invitees])

    assert outcomes == ["ok"] * 50
    assert Referral.objects.filter(inviter=inviter).count() == 50
    assert points_of(inviter) == 50 * 200
    assert PointsEntry.objects.filter(user=inviter).count() == 50
    assert all(points_of(invitee) == 100 for invitee in invitees)
    assert_balances_match_ledger()


def test_crossing_activations_never_make_a_two_cycle(make_user):
    for _ in range(20):
        a, b = make_user(), make_user()

        outcomes = run_in_parallel([activation(a, code_of(b)), activation(b, code_of(a))])

        assert sorted(outcomes) == ["invite_cycle", "ok"]
    assert Referral.objects.count() == 20
    assert_acyclic()
    assert_balances_match_ledger()


def test_crossing_activations_never_close_a_longer_cycle(make_user):
    """A invited D and C invited B. "A takes B's code" and "C takes D's code" lock
    different inviters, but each one's tree root is the other's invitee, so they
    serialize; together they would close A -> D -> C -> B -> A."""
    for _ in range(20):
        a, b, c, d = (make_user() for _ in range(4))
        invite_activate(user=d, code=code_of(a))
        invite_activate(user=b, code=code_of(c))

        outcomes = run_in_parallel([activation(a, code_of(b)), activation(c, code_of(d))])

        assert sorted(outcomes) == ["invite_cycle", "ok"]
    assert_acyclic()
    assert_balances_match_ledger()


def test_a_ring_of_activations_never_closes(make_user):
    """Six users each take the next one's code at once: at most five can succeed."""
    for _ in range(5):
        ring = [make_user() for _ in range(6)]

        outcomes = run_in_parallel(
            [activation(user, code_of(ring[(i + 1) % 6])) for i, user in enumerate(ring)]
        )

        assert set(outcomes) <= {"ok", "invite_cycle"}
        assert outcomes.count("invite_cycle") >= 1
    assert_acyclic()
    assert_balances_match_ledger()


def test_mixed_parallel_activations_keep_balances_and_the_tree_sound(make_user):
    users = [make_user() for _ in range(12)]
    calls = [
        activation(users[i], code_of(users[j]))
        for i in range(12)
        for j in (i - 1, i + 1, i + 5)
        if 0 <= j < 12 and j != i
    ]

    outcomes = run_in_parallel(calls)

    assert set(outcomes) <= {"ok", "invite_cycle", "invite_already_activated"}
    assert outcomes.count("ok") == Referral.objects.count()
    assert_acyclic()
    assert_balances_match_ledger()


def test_a_burst_of_wrong_codes_learns_no_more_than_the_failure_budget(make_user, settings):
    settings.REFERRALS_FAILED_ACTIVATIONS_PER_USER = (3, 3600)
    user = make_user()

    outcomes = run_in_parallel([activation(user, f"ZZZZ{n:02d}") for n in range(24)])

    counts = Counter(outcomes)
    assert counts["invite_code_not_found"] <= 3
    assert counts["invite_code_not_found"] + counts["rate_limited"] == 24
