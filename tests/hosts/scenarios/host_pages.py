"""The web UI's pages on a host project that mounts them as the README says.

Only a host with ``phone_referrals_web`` installed runs these (``email_user``: its own user
model, which has an email but no names); on the others they are skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from support import user_has_field

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not apps.is_installed("phone_referrals_web"), reason="the host has no web UI"
    ),
]

PHONE = "+79115550000"
PAGES = "/account/"


@pytest.fixture
def page_sign_in(printed_code: Callable[[str], str]) -> Callable[[str], Client]:
    """A browser-like client signed in as ``phone`` through the host's phone and code pages."""

    def _sign_in(phone: str) -> Client:
        client = Client()
        sent = client.post(PAGES, {"phone": phone})
        assert sent.status_code == 302, sent.content
        assert sent["Location"] == f"{PAGES}code/"
        verified = client.post(f"{PAGES}code/", {"code": printed_code(phone)})
        assert verified.status_code == 302, verified.content
        assert verified["Location"] == f"{PAGES}profile/"
        cache.clear()  # the next sign-in of a test is not a resend from the same address
        return client

    return _sign_in


def test_a_phone_signs_in_on_the_pages_and_sees_its_profile(
    page_sign_in: Callable[[str], Client],
) -> None:
    from referrals.models import Profile

    client = page_sign_in(PHONE)

    page = client.get(f"{PAGES}profile/")
    assert page.status_code == 200, page.content
    html = page.content.decode()
    assert "+7 911 555-00-00" in html
    assert Profile.objects.get(user__phone_account__phone=PHONE).invite_code in html
    assert "/static/phone_referrals_web/app.css" in html


def test_the_pages_show_only_what_the_host_has(page_sign_in: Callable[[str], Client]) -> None:
    html = page_sign_in(PHONE).get(f"{PAGES}profile/").content.decode()

    for name in ("first_name", "last_name", "email"):
        assert (f'name="{name}"' in html) is user_has_field(name), name
    assert "/api/docs/" not in html  # the host mounts no API docs: no links to them
    assert 'class="lang-switch"' not in html  # nor Django's set_language


def test_the_profile_page_shows_no_placeholder_email(
    page_sign_in: Callable[[str], Client],
) -> None:
    html = page_sign_in(PHONE).get(f"{PAGES}profile/").content.decode()

    assert 'name="email"' in html
    assert "phone.invalid" not in html


def test_the_details_form_saves_a_real_email(page_sign_in: Callable[[str], Client]) -> None:
    client = page_sign_in(PHONE)

    saved = client.post(f"{PAGES}profile/details/", {"email": "anna@example.com"})

    assert saved.status_code == 302, saved.content.decode()
    assert 'value="anna@example.com"' in client.get(f"{PAGES}profile/").content.decode()
    assert get_user_model().objects.get(phone_account__phone=PHONE).email == "anna@example.com"


def test_the_details_form_refuses_the_placeholder_domain(
    page_sign_in: Callable[[str], Client],
) -> None:
    client = page_sign_in(PHONE)

    refused = client.post(f"{PAGES}profile/details/", {"email": "anna@phone.invalid"})

    assert refused.status_code == 200
    assert 'class="field-errors"' in refused.content.decode()
    assert get_user_model().objects.get(phone_account__phone=PHONE).email != "anna@phone.invalid"


def test_signed_out_the_profile_leads_to_the_phone_page() -> None:
    answer = Client().get(f"{PAGES}profile/")

    assert answer.status_code == 302
    assert answer["Location"] == PAGES
