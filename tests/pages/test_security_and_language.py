"""CSRF protection of every form and the language switch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.support import code_from_outbox

pytestmark = pytest.mark.django_db


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def token_of(client: Client, path: str = "/") -> str:
    client.get(path)
    return client.cookies["csrftoken"].value


class SignInTokenClient(Client):
    """A CSRF-enforcing client whose sign-in posts carry the token (and nothing else does)."""

    def __init__(self) -> None:
        super().__init__(enforce_csrf_checks=True)

    def post(self, path: str, data: dict | None = None, **extra):  # type: ignore[override]
        if path in ("/", "/code/"):
            data = {**(data or {}), "csrfmiddlewaretoken": token_of(self)}
        return super().post(path, data, **extra)


def test_sending_a_code_needs_the_csrf_token(sms_outbox: list) -> None:
    client = csrf_client()
    assert client.post("/", {"phone": "+79110000001"}).status_code == 403
    assert sms_outbox == []
    token = token_of(client)
    response = client.post("/", {"phone": "+79110000001", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_checking_a_code_needs_the_csrf_token(sms_outbox: list) -> None:
    client = csrf_client()
    token = token_of(client)
    client.post("/", {"phone": "+79110000001", "csrfmiddlewaretoken": token})
    code = code_from_outbox(sms_outbox, "+79110000001")
    assert client.post("/code/", {"code": code}).status_code == 403
    assert client.post("/code/resend/").status_code == 403
    response = client.post("/code/", {"code": code, "csrfmiddlewaretoken": token})
    assert response["Location"] == "/profile/"


@pytest.mark.parametrize(
    ("path", "data", "with_token"),
    [
        ("/profile/invite/", {"invite_code": "ZZZZZZ"}, 200),
        ("/profile/details/", {"first_name": "Mallory"}, 302),
        ("/logout/", {}, 302),
    ],
)
def test_profile_forms_need_the_csrf_token(
    web_sign_in: Callable[..., Client], path: str, data: dict[str, str], with_token: int
) -> None:
    client = web_sign_in("+79110000001", SignInTokenClient())
    assert client.post(path, data).status_code == 403
    assert client.get("/profile/").status_code == 200
    data_with_token = {**data, "csrfmiddlewaretoken": token_of(client, "/profile/")}
    assert client.post(path, data_with_token).status_code == with_token


def test_language_switch_to_russian_and_back() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="ru">' in html
    assert 'value="ru" lang="ru"\n                  aria-current="true"' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()


def test_language_switch_offers_english_and_russian() -> None:
    html = Client().get("/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert ">English</button>" in html
    assert ">Русский</button>" in html
    assert 'name="next" value="/"' in html


def test_the_footer_links_the_services_api_docs() -> None:
    html = Client().get("/").content.decode()

    assert 'href="/api/docs/"' in html
    assert 'href="/api/redoc/"' in html


def test_language_switch_needs_the_csrf_token() -> None:
    client = csrf_client()
    assert client.post("/i18n/setlang/", {"language": "ru", "next": "/"}).status_code == 403
