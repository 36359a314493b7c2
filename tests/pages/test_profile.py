"""The profile page: invite code, activation and its errors, referrals, points, details."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from pytest_django.fixtures import Settings

from phone_auth.services import user_get_or_create
from referrals.models import Profile
from referrals.services import invite_activate
from tests.pages.test_sign_in import field_error

pytestmark = pytest.mark.django_db

ANNA = "+79110000001"
BORIS = "+79110000002"
VERA = "+79110000003"

SignIn = Callable[..., Client]


def listed(html: str, testid: str) -> str:
    """The HTML of the list marked with ``data-testid``."""
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</ul>", start)]


def invite_code_of(phone: str) -> str:
    return Profile.objects.get(user__phone_account__phone=phone).invite_code


def test_profile_needs_a_signed_in_person() -> None:
    client = Client()
    assert client.get("/profile/")["Location"] == "/"
    assert client.post("/profile/invite/", {"invite_code": "ABCDEF"})["Location"] == "/"
    assert client.post("/profile/details/", {"first_name": "X"})["Location"] == "/"


def test_profile_shows_phone_code_and_empty_lists(web_sign_in: SignIn) -> None:
    html = web_sign_in(ANNA).get("/profile/").content.decode()
    assert 'data-testid="my-phone">+7 911 000-00-01<' in html
    assert f'data-testid="invite-code">{invite_code_of(ANNA)}<' in html
    assert 'data-testid="points">0<' in html
    assert "Nobody has activated your code yet." in html
    assert "No points yet." in html
    assert '<label for="id_invite_code">Invite code</label>' in html


def test_activation_gives_points_and_shows_the_inviter(web_sign_in: SignIn) -> None:
    web_sign_in(ANNA)
    anna_code = invite_code_of(ANNA)
    boris = web_sign_in(BORIS)
    response = boris.post(
        "/profile/invite/", {"invite_code": f"  {anna_code.lower()} "}, follow=True
    )
    assert response.redirect_chain == [("/profile/", 302)]
    html = response.content.decode()
    assert "Invite code activated." in html
    assert 'data-testid="points">100<' in html
    assert re.search(rf"You activated code <strong[^>]*>{anna_code}</strong> from", html)
    assert "+7 911 000-00-01" in html
    assert 'name="invite_code"' not in html
    assert "+100" in html
    assert "Activated an invite code" in html


def test_inviter_sees_the_referral_and_the_award(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    web_sign_in(BORIS).post("/profile/invite/", {"invite_code": invite_code_of(ANNA)})
    html = anna.get("/profile/").content.decode()
    assert 'data-testid="points">200<' in html
    assert 'data-testid="referrals-count">1<' in html
    assert "+7 911 000-00-02" in listed(html, "referrals")
    ledger = listed(html, "ledger")
    assert "+200" in ledger
    assert "Invited a user" in ledger
    assert "+7 911 000-00-02" in ledger


@pytest.mark.parametrize("raw", ["ZZZZZZ", "TOOLONGCODE", "a"])
def test_unknown_invite_code(web_sign_in: SignIn, raw: str) -> None:
    response = web_sign_in(ANNA).post("/profile/invite/", {"invite_code": raw})
    assert response.status_code == 200
    assert "No user has this invite code." in field_error(response, "invite_code")


def test_empty_invite_code(web_sign_in: SignIn) -> None:
    response = web_sign_in(ANNA).post("/profile/invite/", {"invite_code": "  "})
    assert "This field is required." in field_error(response, "invite_code")


def test_own_invite_code(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    response = anna.post("/profile/invite/", {"invite_code": invite_code_of(ANNA)})
    assert "You cannot activate your own invite code." in field_error(response, "invite_code")


def test_invite_cycle(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    web_sign_in(BORIS).post("/profile/invite/", {"invite_code": invite_code_of(ANNA)})
    response = anna.post("/profile/invite/", {"invite_code": invite_code_of(BORIS)})
    assert "This user was invited by you" in field_error(response, "invite_code")


def test_second_activation_is_refused_and_explained(web_sign_in: SignIn) -> None:
    web_sign_in(ANNA)
    web_sign_in(VERA)
    boris = web_sign_in(BORIS)
    boris.post("/profile/invite/", {"invite_code": invite_code_of(ANNA)})
    response = boris.post("/profile/invite/", {"invite_code": invite_code_of(VERA)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "You have already activated an invite code." in html
    assert 'role="alert"' in html
    assert 'data-testid="points">100<' in html


def test_repeated_failed_activations_are_rate_limited(
    web_sign_in: SignIn, settings: Settings
) -> None:
    settings.REFERRALS_FAILED_ACTIVATIONS_PER_USER = (2, 3600)
    anna = web_sign_in(ANNA)
    for _ in range(2):
        anna.post("/profile/invite/", {"invite_code": "ZZZZZZ"})
    response = anna.post("/profile/invite/", {"invite_code": "ZZZZZZ"})
    error = field_error(response, "invite_code")
    assert "Too many requests. Try again later." in error
    assert "Try again in" in error


def test_details_are_saved(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    response = anna.post(
        "/profile/details/",
        {"first_name": "Anna", "last_name": "Petrova", "email": "anna@example.com"},
        follow=True,
    )
    assert "Your details are saved." in response.content.decode()
    user = get_user_model().objects.get(phone_account__phone=ANNA)
    assert (user.first_name, user.last_name, user.email) == ("Anna", "Petrova", "anna@example.com")
    assert 'value="Petrova"' in anna.get("/profile/").content.decode()


def test_invalid_email_is_shown_next_to_the_field(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    response = anna.post(
        "/profile/details/", {"first_name": "Anna", "last_name": "", "email": "not-an-email"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in field_error(response, "email")
    assert 'value="not-an-email"' in response.content.decode()
    assert get_user_model().objects.get(phone_account__phone=ANNA).first_name == ""


def test_too_long_name_is_shown_next_to_the_field(web_sign_in: SignIn) -> None:
    response = web_sign_in(ANNA).post(
        "/profile/details/", {"first_name": "A" * 151, "last_name": "", "email": ""}
    )
    assert "at most 150 characters" in field_error(response, "first_name")


def test_form_actions_answer_get_with_the_profile(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    assert anna.get("/profile/invite/")["Location"] == "/profile/"
    assert anna.get("/profile/details/")["Location"] == "/profile/"


def test_referrals_are_paged_newest_first(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    inviter = get_user_model().objects.get(phone_account__phone=ANNA)
    code = invite_code_of(ANNA)
    phones = [f"+7911100{n:04d}" for n in range(12)]
    for phone in phones:
        user, _ = user_get_or_create(phone=phone)
        invite_activate(user=user, code=code)
    assert inviter.referrals_made.count() == 12

    first = anna.get("/profile/").content.decode()
    second = anna.get("/profile/?page=2").content.decode()
    shown_first = re.findall(r"\+7 911 100-\d\d-\d\d", listed(first, "referrals"))
    shown_second = re.findall(r"\+7 911 100-\d\d-\d\d", listed(second, "referrals"))
    assert shown_first == [f"+7 911 100-00-{n:02d}" for n in range(11, 1, -1)]
    assert shown_second == ["+7 911 100-00-01", "+7 911 100-00-00"]
    assert "Page 1 of 2" in first
    assert 'href="?page=2#referrals"' in first
    assert "Page 2 of 2" in anna.get("/profile/?page=99").content.decode()
    assert "Page 1 of 2" in anna.get("/profile/?page=x").content.decode()
    assert 'data-testid="points">2400<' in first
    assert 'href="?points_page=2#points"' in first
    assert 'href="?page=2&amp;points_page=2#points"' in second  # each list keeps the other's page
    assert len(re.findall(r'class="amount plus">\+200<', first)) == 10


def test_sign_out_ends_the_session(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    response = anna.post("/logout/", follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "You are signed out." in response.content.decode()
    assert anna.get("/profile/")["Location"] == "/"


def test_sign_out_is_a_post_only_action(web_sign_in: SignIn) -> None:
    anna = web_sign_in(ANNA)
    assert anna.get("/logout/").status_code == 405
    assert anna.get("/profile/").status_code == 200
