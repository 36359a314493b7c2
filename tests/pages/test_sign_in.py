"""Signing in through the pages: phone, code, resend, and every error next to its field."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from phone_auth.sms import BaseSmsBackend, SmsMessage, SmsSendError
from tests.support import code_from_outbox

pytestmark = pytest.mark.django_db

PHONE = "+79110000001"


class FailingSmsBackend(BaseSmsBackend):
    """A provider that is down."""

    async def send(self, message: SmsMessage) -> None:
        raise SmsSendError("provider answered 500")


def field_error(response, field: str) -> str:
    """The text of the error list rendered next to ``field``."""
    html = response.content.decode()
    marker = f'id="id_{field}_error"'
    assert marker in html, f"no error next to {field}"
    start = html.index(marker)
    return html[start : html.index("</ul>", start)]


def send(client: Client, phone: str = PHONE):
    return client.post("/", {"phone": phone})


def test_phone_page_has_a_labelled_phone_field() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_phone">Phone number</label>' in html
    assert 'type="tel"' in html
    assert "csrfmiddlewaretoken" in html


def test_sending_a_code_leads_to_the_code_page(sms_outbox: list[SmsMessage]) -> None:
    client = Client()
    response = send(client, "8 (911) 000-00-01")
    assert response.status_code == 302
    assert response["Location"] == "/code/"
    assert [message.phone for message in sms_outbox] == [PHONE]

    page = client.get("/code/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "+7 911 000-00-01" in html
    assert '<label for="id_code">Code from the SMS</label>' in html
    assert 'autocomplete="one-time-code"' in html
    assert "demo-code" not in html


def test_demo_mode_shows_the_code_as_a_marked_hint(
    settings: Settings, sms_outbox: list[SmsMessage]
) -> None:
    settings.PHONE_AUTH_EXPOSE_CODES = True
    client = Client()
    send(client)
    html = client.get("/code/").content.decode()
    code = code_from_outbox(sms_outbox, PHONE)
    assert f'data-testid="demo-code">{code}</strong>' in html
    assert "demo mode" in html


def test_the_right_code_signs_in_and_opens_the_profile(
    sms_outbox: list[SmsMessage],
) -> None:
    client = Client()
    send(client)
    response = client.post("/code/", {"code": code_from_outbox(sms_outbox, PHONE)}, follow=True)
    assert response.redirect_chain == [("/profile/", 302)]
    assert response.context["user"].is_authenticated
    html = response.content.decode()
    assert "Welcome! Your account is ready." in html
    assert "+7 911 000-00-01" in html
    assert "phone_referrals_web_signin_phone" not in client.session


def test_a_returning_user_is_welcomed_back(
    web_sign_in: Callable[..., Client], sms_outbox: list[SmsMessage]
) -> None:
    web_sign_in(PHONE).post("/logout/")
    client = Client()
    send(client)
    response = client.post("/code/", {"code": code_from_outbox(sms_outbox, PHONE)}, follow=True)
    assert "You are signed in." in response.content.decode()


def test_a_disabled_account_cannot_sign_in(
    web_sign_in: Callable[..., Client], sms_outbox: list[SmsMessage]
) -> None:
    web_sign_in(PHONE).post("/logout/")
    get_user_model().objects.filter(phone_account__phone=PHONE).update(is_active=False)
    client = Client()
    send(client)
    response = client.post("/code/", {"code": code_from_outbox(sms_outbox, PHONE)})
    assert "This account is disabled." in field_error(response, "code")
    assert client.get("/profile/")["Location"] == "/"


def test_signed_in_people_skip_the_sign_in_pages(web_sign_in: Callable[..., Client]) -> None:
    client = web_sign_in(PHONE)
    assert client.get("/")["Location"] == "/profile/"
    assert client.get("/code/")["Location"] == "/profile/"


def test_code_page_without_a_phone_goes_back_to_the_phone_page() -> None:
    assert Client().get("/code/")["Location"] == "/"
    assert Client().post("/code/resend/")["Location"] == "/"


@pytest.mark.parametrize("raw", ["12345", "+7 911", "not a phone", "+7 911 000-00-01 ext. 5"])
def test_invalid_phone_is_shown_next_to_the_field(raw: str) -> None:
    response = send(Client(), raw)
    assert response.status_code == 200
    assert "Enter a valid phone number." in field_error(response, "phone")
    assert 'aria-invalid="true"' in response.content.decode()


def test_phone_outside_the_allowed_regions(settings: Settings) -> None:
    settings.PHONE_AUTH_ALLOWED_REGIONS = ["RU"]
    response = send(Client(), "+49 30 123456")
    assert "Phone numbers of this country are not accepted." in field_error(response, "phone")


def test_send_budget_spent_is_shown_next_to_the_phone(settings: Settings) -> None:
    settings.PHONE_AUTH_RESEND_COOLDOWN = 0
    settings.PHONE_AUTH_SEND_LIMITS = {"phone_hour": (1, 3600)}
    client = Client()
    assert send(client).status_code == 302
    response = send(client)
    error = field_error(response, "phone")
    assert "Too many requests. Try again later." in error
    assert "Try again in" in error


def test_sms_provider_failure_is_shown_next_to_the_phone(settings: Settings) -> None:
    settings.PHONE_AUTH_SMS_BACKEND = f"{__name__}.FailingSmsBackend"
    client = Client()
    response = send(client)
    assert response.status_code == 200
    assert "The SMS could not be sent. Try again later." in field_error(response, "phone")
    assert "phone_referrals_web_signin_phone" not in client.session


def test_resend_inside_the_cooldown_says_how_long_to_wait(
    sms_outbox: list[SmsMessage],
) -> None:
    client = Client()
    send(client)
    page = client.get("/code/").content.decode()
    assert re.search(r'data-cooldown="(59|60)"', page)
    assert re.search(r"You can ask for a new code in <span data-countdown>(59|60)</span> s.", page)
    response = client.post("/code/resend/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "A code was sent recently. Wait before asking for another one." in html
    assert re.search(r"Try again in (59|60) seconds\.", html)
    assert len(sms_outbox) == 1


def test_resend_after_the_cooldown_sends_a_new_code(
    settings: Settings, sms_outbox: list[SmsMessage]
) -> None:
    settings.PHONE_AUTH_RESEND_COOLDOWN = 0
    client = Client()
    send(client)
    response = client.post("/code/resend/", follow=True)
    assert response.redirect_chain == [("/code/", 302)]
    assert "A new code is on its way." in response.content.decode()
    assert len(sms_outbox) == 2
    latest = code_from_outbox(sms_outbox, PHONE)
    assert client.post("/code/", {"code": latest})["Location"] == "/profile/"


def test_resend_is_a_post_only_action() -> None:
    assert Client().get("/code/resend/").status_code == 405


@pytest.mark.parametrize("raw", ["12", "12345", "abcd", "\uff11\uff12\uff13\uff14"])
def test_code_of_the_wrong_shape_is_shown_next_to_the_field(raw: str) -> None:
    client = Client()
    send(client)
    response = client.post("/code/", {"code": raw})
    assert "Enter the 4-digit code from the SMS." in field_error(response, "code")


def wrong_code(sms_outbox: list[SmsMessage]) -> str:
    return "0000" if code_from_outbox(sms_outbox, PHONE) != "0000" else "1111"


def test_wrong_codes_count_down_then_burn_the_code(sms_outbox: list[SmsMessage]) -> None:
    client = Client()
    send(client)
    wrong = wrong_code(sms_outbox)
    for left in ("2 attempts left.", "1 attempt left.", "No attempts are left for this code."):
        error = field_error(client.post("/code/", {"code": wrong}), "code")
        assert "The code is wrong." in error
        assert left in error
    right = code_from_outbox(sms_outbox, PHONE)
    burned = client.post("/code/", {"code": right})
    assert "Too many wrong codes. Request a new code." in field_error(burned, "code")


def test_expired_code_is_no_active_code(sms_outbox: list[SmsMessage]) -> None:
    client = Client()
    send(client)
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        response = client.post("/code/", {"code": code_from_outbox(sms_outbox, PHONE)})
    assert "There is no valid code for this phone. Request a new one." in field_error(
        response, "code"
    )


def test_sends_wait_on_the_sms_provider_together(settings: Settings) -> None:
    """The send view awaits the provider on the event loop: slow sends overlap."""
    settings.PHONE_AUTH_SMS_BACKEND = "console"
    delay = 1.0
    settings.PHONE_AUTH_SMS_DELAY = str(delay)
    phones = [f"+7911000{n:04d}" for n in range(8)]

    async def send_all() -> list[int]:
        responses = await asyncio.gather(
            *(AsyncClient().post("/", {"phone": phone}) for phone in phones)
        )
        return [response.status_code for response in responses]

    started = time.monotonic()
    statuses = async_to_sync(send_all)()
    elapsed = time.monotonic() - started
    assert statuses == [302] * len(phones)
    # One after another they would take 8 s; together about 1 s plus the requests' own
    # work, which on a loaded machine can be a few seconds.
    assert elapsed < delay * (len(phones) - 2), f"sends did not overlap ({elapsed:.2f}s)"


@pytest.mark.parametrize(
    ("remote_addr", "shown"), [("127.0.0.1", True), ("::1", True), ("203.0.113.9", False)]
)
def test_local_demo_mode_shows_the_code_on_the_page_to_loopback_clients_only(
    settings: Settings, sms_outbox: list[SmsMessage], remote_addr: str, shown: bool
) -> None:
    settings.PHONE_AUTH_EXPOSE_CODES = "loopback"
    client = Client(REMOTE_ADDR=remote_addr)
    assert send(client).status_code == 302
    code = code_from_outbox(sms_outbox, PHONE)
    assert (code in client.get("/code/").content.decode()) is shown


def test_a_web_sign_in_sends_the_sign_in_signals(sms_outbox: list[SmsMessage]) -> None:
    from django.contrib.auth.signals import user_logged_in

    from phone_auth.signals import user_signed_in

    seen: list[tuple[str, object]] = []

    def on_signed_in(**kwargs: object) -> None:
        seen.append(("user_signed_in", kwargs["is_new_user"]))

    def on_logged_in(**kwargs: object) -> None:
        seen.append(("user_logged_in", kwargs["user"]))

    user_signed_in.connect(on_signed_in)
    user_logged_in.connect(on_logged_in)
    try:
        client = Client()
        send(client)
        client.post("/code/", {"code": code_from_outbox(sms_outbox, PHONE)})
    finally:
        user_signed_in.disconnect(on_signed_in)
        user_logged_in.disconnect(on_logged_in)
    user = get_user_model().objects.get(phone_account__phone=PHONE)
    assert seen == [("user_logged_in", user), ("user_signed_in", True)]
    assert user.last_login is not None


def test_wrong_codes_on_the_page_from_another_address_cannot_burn_the_owners_code(
    sms_outbox: list[SmsMessage],
) -> None:
    stranger, owner = Client(REMOTE_ADDR="198.51.100.2"), Client(REMOTE_ADDR="198.51.100.1")
    assert send(stranger).status_code == 302
    assert send(owner).status_code == 302  # the owner's code replaces the stranger's
    code = code_from_outbox(sms_outbox, PHONE)
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(3):
        stranger.post("/code/", {"code": wrong})
    answer = owner.post("/code/", {"code": code})
    assert answer.status_code == 302
    assert answer["Location"] == "/profile/"
