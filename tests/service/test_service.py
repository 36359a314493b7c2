"""Service routes: the OpenAPI document, Swagger UI and ReDoc from local assets, the health
check, the admin and the web pages for people.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
import yaml

from tests.service.support import Api

CONTRACT_PATHS = {
    "/api/v1/auth/send-code/",
    "/api/v1/auth/verify-code/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/auth/logout-all/",
    "/api/v1/profile/",
    "/api/v1/profile/invite/",
    "/api/v1/profile/referrals/",
    "/api/v1/profile/points/",
    "/api/v1/users/",
}


def test_healthz(api: Api) -> None:
    answer = api.get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_schema_is_openapi_3_with_every_route(api: Api) -> None:
    answer = api.get("/api/schema/")
    assert answer.status_code == 200, answer.text
    document = yaml.safe_load(answer.text)
    assert str(document["openapi"]).startswith("3.")
    assert set(document["paths"]) >= CONTRACT_PATHS, sorted(document["paths"])
    assert any(path.startswith("/api/v1/users/{") for path in document["paths"])


@pytest.mark.parametrize(("path", "tool"), [("/api/docs/", "swagger"), ("/api/redoc/", "redoc")])
def test_docs_pages_use_local_assets(api: Api, path: str, tool: str) -> None:
    answer = api.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert tool in answer.text.lower()
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", answer.text)
    assert sources, answer.text
    for source in sources:
        host = urlparse(source).netloc
        assert host in ("", urlparse(api.service.base_url).netloc), source
        if not host and source.startswith("/"):
            assert api.get(source).status_code == 200, source


def test_home_page(api: Api) -> None:
    answer = api.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert "<form" in answer.text


def test_profile_page_for_anonymous_is_a_redirect_or_the_sign_in_page(api: Api) -> None:
    answer = api.get("/profile/")
    assert answer.status_code in (200, 302, 303), answer.status_code
    if answer.status_code != 200:
        target = api.get(answer.headers["location"])
        assert target.status_code == 200
        assert "<form" in target.text
    else:
        assert "<form" in answer.text


def test_admin_answers(api: Api) -> None:
    answer = api.get("/admin/")
    assert answer.status_code in (200, 302)
    assert api.get("/admin/", follow_redirects=True).status_code == 200


def test_unknown_page_is_a_404_without_a_stack_trace(api: Api) -> None:
    answer = api.get("/no-such-page/")
    assert answer.status_code == 404
    assert "Traceback" not in answer.text
