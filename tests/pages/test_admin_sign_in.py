"""The admin opens only after a password sign-in on its own login page: a phone sign-in of
the web UI, even a staff member's, never does. Password attempts are throttled per account
and per client address."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from phone_auth.models import PhoneAccount

pytestmark = pytest.mark.django_db

STAFF_PHONE = "+79110000041"
PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/"


def staff_user(phone: str = STAFF_PHONE, *, password: str | None = PASSWORD):
    """The user of ``phone`` (signed up by phone) made staff, with ``password`` if given."""
    account = PhoneAccount.objects.select_related("user").get(phone=phone)
    user = account.user
    user.is_staff = True
    user.is_superuser = True
    if password:
        user.set_password(password)
    user.save()
    return user


def make_account(username: str):
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, is_superuser=True
    )


def admin_login(client: Client, username: str, password: str, **extra: str):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def test_a_staff_phone_sign_in_alone_does_not_open_the_admin(
    web_sign_in: Callable[..., Client],
) -> None:
    client = web_sign_in(STAFF_PHONE)
    staff_user(password=None)  # a new password would end the session itself

    assert client.get("/profile/").status_code == 200  # signed in for the web UI
    for path in ("/admin/", "/admin/auth/user/", "/admin/referrals/profile/"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer["Location"].startswith(LOGIN), path
    assert client.get(LOGIN).status_code == 200


def test_the_same_staff_member_with_the_password_opens_the_admin(
    web_sign_in: Callable[..., Client],
) -> None:
    client = web_sign_in(STAFF_PHONE)
    user = staff_user()

    answer = admin_login(client, user.get_username(), PASSWORD)

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200


def test_a_wrong_password_does_not_open_the_admin() -> None:
    make_account("boss")
    client = Client()

    answer = admin_login(client, "boss", "wrong")

    assert answer.status_code == 200
    assert "Please enter the correct username and password" in answer.content.decode()
    assert client.get("/admin/").status_code == 302


def test_password_attempts_are_limited_per_account() -> None:
    make_account("boss")
    make_account("other")
    for attempt in range(5):
        answer = admin_login(Client(), "boss", f"guess-{attempt}", REMOTE_ADDR=f"10.1.0.{attempt}")
        assert "Please enter the correct username and password" in answer.content.decode()

    client = Client()
    blocked = admin_login(client, "BOSS ", PASSWORD, REMOTE_ADDR="10.1.1.1")

    assert blocked.status_code == 200
    assert re.search(
        r"Too many sign-in attempts. Try again in \d+ minutes?\.", blocked.content.decode()
    )
    assert client.get("/admin/").status_code == 302  # even the right password waits
    other = Client()
    assert admin_login(other, "other", PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 302
    assert other.get("/admin/").status_code == 200


def test_password_attempts_are_limited_per_address() -> None:
    make_account("boss")
    for attempt in range(20):
        admin_login(Client(), f"nobody-{attempt}", "guess", REMOTE_ADDR="10.2.0.1")

    blocked = admin_login(Client(), "boss", PASSWORD, REMOTE_ADDR="10.2.0.1")
    assert "Too many sign-in attempts." in blocked.content.decode()

    elsewhere = Client()
    assert admin_login(elsewhere, "boss", PASSWORD, REMOTE_ADDR="10.2.0.2").status_code == 302
    assert elsewhere.get("/admin/").status_code == 200


def test_throttle_message_is_translated() -> None:
    make_account("boss")
    for attempt in range(5):
        admin_login(Client(), "boss", f"guess-{attempt}")

    blocked = admin_login(Client(), "boss", PASSWORD, HTTP_ACCEPT_LANGUAGE="ru")

    assert "Слишком много попыток входа" in blocked.content.decode()


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_pass_the_account_budget() -> None:
    make_account("boss")
    guesses = 12

    def guess(n: int) -> str:
        try:
            answer = admin_login(Client(), "boss", f"guess-{n}", REMOTE_ADDR=f"10.3.0.{n}")
            return answer.content.decode()
        finally:
            connection.close()  # each thread's own connection

    with ThreadPoolExecutor(max_workers=6) as pool:
        pages = list(pool.map(guess, range(guesses)))

    checked = [page for page in pages if "Please enter the correct username" in page]
    refused = [page for page in pages if "Too many sign-in attempts." in page]
    assert len(checked) == 5  # the budget, however the requests interleave
    assert len(refused) == guesses - 5
