"""The referral program's signals: sent once per activation, after its transaction commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.dispatch import Signal

from referrals import services
from referrals.errors import InviteCodeNotFoundError
from referrals.models import PointsEntry
from referrals.signals import invite_activated, points_awarded
from tests.referrals.support import code_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def received() -> Iterator[list[tuple[Signal, dict[str, Any]]]]:
    """Every send of the two signals during the test, with its keyword arguments."""
    calls: list[tuple[Signal, dict[str, Any]]] = []

    def on_activated(**kwargs: Any) -> None:
        calls.append((invite_activated, kwargs))

    def on_awarded(**kwargs: Any) -> None:
        calls.append((points_awarded, kwargs))

    invite_activated.connect(on_activated, dispatch_uid="test-activated")
    points_awarded.connect(on_awarded, dispatch_uid="test-awarded")
    yield calls
    invite_activated.disconnect(dispatch_uid="test-activated")
    points_awarded.disconnect(dispatch_uid="test-awarded")


def test_an_activation_sends_invite_activated_and_one_points_awarded_per_entry(
    make_user, client_for, received, django_capture_on_commit_callbacks
):
    inviter, invitee = make_user(), make_user()
    code = code_of(inviter)

    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(invitee).post(
            "/api/v1/profile/invite/", {"invite_code": code.lower()}, format="json"
        )

    assert answer.status_code == 200, answer.content
    activated = [kwargs for signal, kwargs in received if signal is invite_activated]
    awarded = [kwargs for signal, kwargs in received if signal is points_awarded]
    assert len(activated) == 1
    assert activated[0]["invitee"].pk == invitee.pk
    assert activated[0]["inviter"].pk == inviter.pk
    assert activated[0]["invite_code"] == code
    assert activated[0]["sender"] == "referrals.services"
    assert sorted((k["user"].pk, k["amount"], k["reason"]) for k in awarded) == sorted(
        [
            (invitee.pk, 100, PointsEntry.Reason.REFERRAL_INVITEE),
            (inviter.pk, 200, PointsEntry.Reason.REFERRAL_INVITER),
        ]
    )


def test_nothing_is_sent_before_the_transaction_commits(make_user, received):
    inviter, invitee = make_user(), make_user()

    with transaction.atomic():
        services.invite_activate(user=invitee, code=code_of(inviter))
        assert received == []


def test_nothing_is_sent_when_the_activation_is_rolled_back(
    make_user, received, django_capture_on_commit_callbacks
):
    inviter, invitee = make_user(), make_user()

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.invite_activate(user=invitee, code=code_of(inviter))
                raise RuntimeError("the caller's transaction fails afterwards")
        except RuntimeError:
            pass

    assert received == []


def test_a_refused_activation_sends_nothing(
    make_user, received, django_capture_on_commit_callbacks
):
    invitee = make_user()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InviteCodeNotFoundError):
        services.invite_activate(user=invitee, code="ZZZZZZ")

    assert received == []


def test_a_failing_receiver_is_logged_and_the_activation_stands(
    make_user, client_for, django_capture_on_commit_callbacks, caplog
):
    inviter, invitee = make_user(), make_user()

    def broken(**kwargs: Any) -> None:
        raise ValueError("receiver bug")

    invite_activated.connect(broken, dispatch_uid="test-broken")
    try:
        with (
            django_capture_on_commit_callbacks(execute=True),
            caplog.at_level("ERROR", logger="referrals.services"),
        ):
            answer = client_for(invitee).post(
                "/api/v1/profile/invite/", {"invite_code": code_of(inviter)}, format="json"
            )
    finally:
        invite_activated.disconnect(dispatch_uid="test-broken")

    assert answer.status_code == 200, answer.content
    assert answer.json()["points"] == 100
    assert any("receiver" in record.getMessage() for record in caplog.records)
