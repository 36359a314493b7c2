"""After a failed post the page comes back at the form with the error: the first field with
a message has the focus. A code spent by wrong entries is shown as dead: no demo code, no
"Sign in", the way on is "Send a new code"."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from phone_auth.sms import SmsMessage
from tests.support import code_from_outbox

pytestmark = pytest.mark.django_db

PHONE = "+79110000031"


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name}"
    return match.group(0)


def sign_in_button(html: str) -> str:
    match = re.search(r'<button type="submit" class="btn btn-primary btn-block"[^>]*>Sign in', html)
    assert match, "no Sign in button"
    return match.group(0)


@pytest.fixture
def demo(settings: Settings) -> None:
    settings.PHONE_AUTH_EXPOSE_CODES = True
    settings.PHONE_AUTH_RESEND_COOLDOWN = 0


def burn(client: Client, sms_outbox: list[SmsMessage]) -> str:
    """Send a code and enter a wrong one until it is spent; the last page's HTML."""
    client.post("/", {"phone": PHONE})
    right = code_from_outbox(sms_outbox, PHONE)
    wrong = "0000" if right != "0000" else "1111"
    html = ""
    for _ in range(3):
        html = client.post("/code/", {"code": wrong}).content.decode()
    return html


def test_a_burned_code_hides_the_demo_code_and_disables_sign_in(
    demo: None, sms_outbox: list[SmsMessage]
) -> None:
    client = Client()
    client.post("/", {"phone": PHONE})
    live = client.get("/code/").content.decode()
    code = code_from_outbox(sms_outbox, PHONE)
    assert 'data-testid="demo-code"' in live
    assert "disabled" not in sign_in_button(live)

    html = burn(client, sms_outbox)

    assert "0 attempts left" not in html
    assert "No attempts are left for this code." in html
    assert 'data-testid="demo-code"' not in html
    assert f">{code}<" not in html
    assert "disabled" in sign_in_button(html)
    assert "disabled" in input_tag(html, "code")
    assert "value=" not in input_tag(html, "code")  # the spent entry is not shown back
    assert 'data-testid="dead-code"' in html
    assert 'href="#resend"' in html
    assert re.search(r'id="resend"', html)


def test_a_burned_code_stays_dead_on_reload_until_a_new_code_is_sent(
    demo: None, sms_outbox: list[SmsMessage]
) -> None:
    client = Client()
    burn(client, sms_outbox)

    reloaded = client.get("/code/").content.decode()
    assert 'data-testid="dead-code"' in reloaded
    assert "disabled" in sign_in_button(reloaded)
    assert 'data-testid="demo-code"' not in reloaded

    assert client.post("/code/resend/").status_code == 302
    fresh = client.get("/code/").content.decode()
    assert 'data-testid="dead-code"' not in fresh
    assert "disabled" not in sign_in_button(fresh)
    assert 'data-testid="demo-code"' in fresh
    verified = client.post("/code/", {"code": code_from_outbox(sms_outbox, PHONE)})
    assert verified.status_code == 302
    assert verified["Location"] == "/profile/"


def test_a_wrong_code_with_attempts_left_keeps_the_code_live(
    demo: None, sms_outbox: list[SmsMessage]
) -> None:
    client = Client()
    client.post("/", {"phone": PHONE})
    right = code_from_outbox(sms_outbox, PHONE)
    html = client.post("/code/", {"code": "0000" if right != "0000" else "1111"}).content.decode()

    assert "2 attempts left." in html
    assert 'data-testid="dead-code"' not in html
    assert "disabled" not in sign_in_button(html)
    assert "autofocus" in input_tag(html, "code")


def test_failed_invite_lands_at_the_invite_field(web_sign_in: Callable[..., Client]) -> None:
    client = web_sign_in("+79110000032")

    html = client.post("/profile/invite/", {"invite_code": "ZZZZZZ"}).content.decode()

    assert 'id="id_invite_code_error"' in html
    assert "autofocus" in input_tag(html, "invite_code")


def test_failed_details_land_at_the_first_invalid_field(
    web_sign_in: Callable[..., Client],
) -> None:
    client = web_sign_in("+79110000033")

    html = client.post(
        "/profile/details/", {"first_name": "Ann", "last_name": "", "email": "not-an-email"}
    ).content.decode()

    assert 'id="id_email_error"' in html
    assert "autofocus" in input_tag(html, "email")
    assert "autofocus" not in input_tag(html, "first_name")
    assert "autofocus" not in input_tag(html, "invite_code")


def test_the_profile_page_without_errors_focuses_nothing(
    web_sign_in: Callable[..., Client],
) -> None:
    html = web_sign_in("+79110000034").get("/profile/").content.decode()

    assert "autofocus" not in html
