"""A host whose user model needs a value no phone sign-up has (a unique badge number).

Without adapter code such a host cannot sign phones up; the apps say so plainly instead
of failing later: the system check names the field, and ``seed_demo`` refuses before it
writes anything.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from phone_auth.checks import check_phone_auth

pytestmark = pytest.mark.django_db


def test_the_system_check_names_the_field_a_phone_cannot_fill() -> None:
    (warning,) = [problem for problem in check_phone_auth() if problem.id == "phone_auth.W003"]

    assert "staff.User" in warning.msg
    assert "badge" in warning.msg
    assert "PHONE_AUTH_ADAPTER" in warning.hint


def test_seed_demo_refuses_with_a_clear_message() -> None:
    with pytest.raises(CommandError, match=r"cannot fill staff\.User\.badge"):
        call_command("seed_demo", users=5, verbosity=0)

    assert get_user_model().objects.count() == 0
