"""Bodies and query strings no client should send still get a 4xx JSON answer, never a 500."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from rest_framework.test import APIClient

from tests.support import assert_error

pytestmark = pytest.mark.django_db

SignedIn = Callable[..., tuple[Any, APIClient]]

PHONE = "+79110000001"
STAFF_PHONE = "+79110000002"
JSON_ENDPOINTS = [
    "/api/v1/auth/send-code/",
    "/api/v1/auth/verify-code/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/profile/invite/",
]


def cursor(**tokens: str) -> str:
    """A cursor encoded the way DRF encodes one, with tokens of our choosing."""
    return quote(base64.b64encode(urlencode(tokens).encode()).decode())


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_a_deeply_nested_json_body_is_malformed_input(path: str, signed_in: SignedIn) -> None:
    _, client = signed_in(PHONE)
    body = '{"a":' * 5000 + "1" + "}" * 5000

    response = client.post(path, body, content_type="application/json")

    assert_error(response, 400, "invalid_input")


@pytest.mark.parametrize("path", [*JSON_ENDPOINTS, "/api/v1/profile/"])
def test_an_unknown_key_that_is_not_valid_unicode_is_named_safely(
    path: str, signed_in: SignedIn
) -> None:
    _, client = signed_in(PHONE)
    method = client.patch if path == "/api/v1/profile/" else client.post

    response = method(path, '{"\\ud800x": 1}', content_type="application/json")

    body = assert_error(response, 400, "invalid_input")
    assert list(body["fields"]) == ["?x"]


@pytest.mark.parametrize("path", ["/api/v1/profile/referrals/", "/api/v1/profile/points/"])
@pytest.mark.parametrize(
    "tokens",
    [{"p": "abc"}, {"r": "1", "p": "2020-13-45T00:00:00Z"}, {"p": "\x00"}, {"o": "1", "p": "x"}],
)
def test_a_forged_cursor_is_not_found(
    path: str, tokens: dict[str, str], signed_in: SignedIn
) -> None:
    _, client = signed_in(PHONE)

    response = client.get(f"{path}?cursor={cursor(**tokens)}")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/profile/referrals/", "/api/v1/profile/points/"])
def test_a_cursor_with_a_real_position_still_pages(path: str, signed_in: SignedIn) -> None:
    _, client = signed_in(PHONE)

    response = client.get(f"{path}?cursor={cursor(p='2020-01-01 00:00:00+00:00')}")

    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("search", "found"), [("%00", [PHONE, STAFF_PHONE]), ("a%00b", []), ("%0001", [PHONE])]
)
def test_staff_search_ignores_nul_characters(
    search: str, found: list[str], signed_in: SignedIn
) -> None:
    signed_in(PHONE)
    _, staff = signed_in(STAFF_PHONE, is_staff=True)

    response = staff.get(f"/api/v1/users/?search={search}")

    assert response.status_code == 200, response.content
    assert [user["phone"] for user in response.json()["results"]] == found


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_healthz_answers_only_get_and_head(method: str) -> None:
    client = APIClient()

    response = getattr(client, method)("/healthz")

    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"
    assert client.head("/healthz").status_code == 200


@pytest.mark.parametrize("path", JSON_ENDPOINTS)
def test_a_body_over_the_upload_limit_is_too_large(
    path: str, settings, signed_in: SignedIn
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, client = signed_in(PHONE)
    body = '{"phone": "' + "9" * 2000 + '"}'

    response = client.post(path, body, content_type="application/json")

    assert_error(response, 413, "request_too_large")
