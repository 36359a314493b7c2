"""Security headers on every answer, no-store on personal data, one log line per bad Host."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from django.test import Client

from tests.support import code_from_outbox

pytestmark = pytest.mark.django_db

PHONE = "+79110000401"


def assert_no_store(response) -> None:
    assert "no-store" in response["Cache-Control"], (response.status_code, response.headers)


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/api/docs/", "/api/redoc/"])
def test_every_html_page_has_a_content_security_policy(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "'unsafe-eval'" not in policy
    assert "script-src 'self' 'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]


def test_only_the_docs_pages_may_use_inline_styles() -> None:
    assert "'unsafe-inline'" not in Client().get("/")["Content-Security-Policy"]
    assert (
        "style-src 'self' 'unsafe-inline'" in Client().get("/api/redoc/")["Content-Security-Policy"]
    )


def test_swagger_ui_needs_no_inline_script() -> None:
    page = Client().get("/api/docs/").content.decode()
    assert "<script>" not in page
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_answers_with_tokens_or_personal_data_are_never_stored(auth_client) -> None:
    client = auth_client(PHONE)
    assert_no_store(client.get("/api/v1/profile/"))
    assert_no_store(client.get("/api/v1/profile/referrals/"))
    assert_no_store(client.get("/api/v1/profile/points/"))
    refreshed = client.post(
        "/api/v1/auth/token/refresh/", {"refresh": client.tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    assert_no_store(refreshed)
    assert "camera=()" in refreshed["Permissions-Policy"]


def test_the_sign_in_answer_is_never_stored(api_client, sms_outbox) -> None:
    api_client.post("/api/v1/auth/send-code/", {"phone": PHONE}, format="json")
    code = code_from_outbox(sms_outbox, PHONE)
    verified = api_client.post(
        "/api/v1/auth/verify-code/", {"phone": PHONE, "code": code}, format="json"
    )
    assert verified.status_code == 200, verified.content
    assert_no_store(verified)


def test_personal_web_pages_are_never_stored() -> None:
    client = Client()
    assert_no_store(client.get("/"))
    assert_no_store(client.get("/profile/"))  # a redirect to sign in, not stored either


def test_public_documents_stay_cacheable() -> None:
    for path in ("/api/schema/", "/.well-known/jwks.json"):
        assert "no-store" not in Client().get(path).get("Cache-Control", "")


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the service's console log handler writes during the test."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if type(handler) is logging.StreamHandler and handler.filters
    ]
    assert handlers, "the console handler of settings.LOGGING is installed"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


def test_a_bad_host_header_is_one_warning_line_without_a_traceback(
    settings, console_log: io.StringIO
) -> None:
    settings.ALLOWED_HOSTS = ["service.example"]
    for _ in range(3):
        response = Client().get("/", headers={"host": "evil.example"})
        assert response.status_code == 400
    lines = console_log.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert all("WARNING" in line and "evil.example" in line for line in lines), lines
    assert "Traceback" not in console_log.getvalue()
