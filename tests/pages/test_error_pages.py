"""Error pages: a browser gets the UI's HTML page for a missing or failing page; the API
and every client that does not ask for HTML keep the JSON error body."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client
from django.urls import path
from pytest_django.fixtures import Settings

from config import urls as service_urls

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def broken_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


def broken_api(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in the API")


# A URLconf with one failing page and one failing API route beside the service's own.
urlpatterns = [
    path("broken/", broken_page),
    path("api/v1/broken/", broken_api),
    *service_urls.urlpatterns,
]
handler404 = service_urls.handler404
handler500 = service_urls.handler500


@pytest.fixture
def failing_routes(settings: Settings) -> None:
    settings.ROOT_URLCONF = __name__


def test_unknown_page_in_a_browser_is_the_ui_404_page() -> None:
    response = Client().get("/no-such-page/", HTTP_ACCEPT=BROWSER)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h1" in html
    assert "Page not found" in html
    assert "/static/phone_referrals_web/app.css" in html  # the UI's own look
    assert 'href="/"' in html  # a way back to the start
    assert '"code"' not in html


def test_unknown_page_for_a_json_client_keeps_the_json_body() -> None:
    for accept in ("application/json", "*/*", None):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = Client().get("/no-such-page/", **headers)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found", accept


def test_unknown_api_route_keeps_the_json_body_even_in_a_browser() -> None:
    response = Client().get("/api/v1/no-such-route/", HTTP_ACCEPT=BROWSER)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_404_page_speaks_the_browser_language() -> None:
    response = Client().get("/no-such-page/", HTTP_ACCEPT=BROWSER, HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 404
    assert "Страница не найдена" in response.content.decode()


def test_failing_page_in_a_browser_is_the_ui_500_page(failing_routes: None) -> None:
    response = Client().get("/broken/", HTTP_ACCEPT=BROWSER)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Something went wrong" in html
    assert "/static/phone_referrals_web/app.css" in html
    assert "a bug in a page" not in html
    assert "Traceback" not in html


def test_failing_page_for_a_json_client_keeps_the_json_body(failing_routes: None) -> None:
    response = Client().get("/broken/", HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_failing_api_route_keeps_the_json_body_in_a_browser(failing_routes: None) -> None:
    response = Client().get("/api/v1/broken/", HTTP_ACCEPT=BROWSER)

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_the_404_page_under_asgi_as_the_service_runs() -> None:
    async def fetch(path: str) -> HttpResponse:
        return await AsyncClient().get(path, headers={"Accept": BROWSER})  # type: ignore[no-any-return]

    response = async_to_sync(fetch)("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()
    api = async_to_sync(fetch)("/api/v1/no-such-route/")
    assert json.loads(api.content)["code"] == "not_found"
