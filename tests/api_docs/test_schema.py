"""The OpenAPI schema: committed, in step with the code, complete, and served offline.

``docs/openapi.yaml`` is what clients generate code from, so a change of the API that is
not regenerated with ``make schema`` fails here, as does any drf-spectacular warning.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.live_service import ROOT, run_manage, service_env

COMMITTED = ROOT / "docs" / "openapi.yaml"

# Every operation of the HTTP contract (/work/shared/API.md) with the error codes it
# documents, status by status.
CONTRACT: dict[tuple[str, str], dict[str, set[str]]] = {
    ("post", "/api/v1/auth/send-code/"): {
        "400": {"invalid_input", "phone_region_not_allowed"},
        "429": {"resend_too_soon", "rate_limited"},
        "503": {"sms_unavailable", "service_unavailable"},
    },
    ("post", "/api/v1/auth/verify-code/"): {
        "400": {"invalid_input", "invalid_code", "no_active_code", "phone_region_not_allowed"},
        "429": {"too_many_attempts", "rate_limited"},
        "503": {"service_unavailable"},
    },
    ("post", "/api/v1/auth/token/refresh/"): {
        "400": {"invalid_input"},
        "401": {"token_not_valid"},
    },
    ("post", "/api/v1/auth/logout/"): {
        "400": {"invalid_input"},
        "401": {"not_authenticated", "token_not_valid"},
    },
    ("post", "/api/v1/auth/logout-all/"): {
        "400": {"invalid_input"},
        "401": {"not_authenticated", "token_not_valid"},
    },
    ("get", "/api/v1/profile/"): {"401": {"not_authenticated", "token_not_valid"}},
    ("patch", "/api/v1/profile/"): {
        "400": {"invalid_input", "own_invite_code", "invite_cycle"},
        "401": {"not_authenticated", "token_not_valid"},
        "404": {"invite_code_not_found"},
        "409": {"invite_already_activated"},
        "429": {"rate_limited"},
    },
    ("post", "/api/v1/profile/invite/"): {
        "400": {"invalid_input", "own_invite_code", "invite_cycle"},
        "401": {"not_authenticated", "token_not_valid"},
        "404": {"invite_code_not_found"},
        "409": {"invite_already_activated"},
        "429": {"rate_limited"},
    },
    ("get", "/api/v1/profile/referrals/"): {
        "400": {"invalid_input"},
        "401": {"not_authenticated", "token_not_valid"},
        "404": {"not_found"},
    },
    ("get", "/api/v1/profile/points/"): {
        "400": {"invalid_input"},
        "401": {"not_authenticated", "token_not_valid"},
        "404": {"not_found"},
    },
    ("get", "/api/v1/users/"): {
        "400": {"invalid_input"},
        "401": {"not_authenticated", "token_not_valid"},
        "403": {"permission_denied"},
        "404": {"not_found"},
    },
    ("get", "/api/v1/users/{id}/"): {
        "401": {"not_authenticated", "token_not_valid"},
        "403": {"permission_denied"},
        "404": {"not_found"},
    },
    ("get", "/.well-known/jwks.json"): {},
    ("get", "/healthz"): {},
    ("get", "/livez"): {},
}
PUBLIC = {
    ("post", "/api/v1/auth/send-code/"),
    ("post", "/api/v1/auth/verify-code/"),
    ("post", "/api/v1/auth/token/refresh/"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/healthz"),
    ("get", "/livez"),
}
TAGS = {"auth", "profile", "staff", "service"}


def _generate(target: Path) -> subprocess.CompletedProcess[str]:
    """``make schema``'s command, with the standalone settings and a clean environment."""
    env = service_env(target.parent / "unused.sqlite3")
    return run_manage(env, "spectacular", "--file", str(target), "--validate", "--fail-on-warn")


@cache
def committed() -> dict[str, Any]:
    return dict(yaml.safe_load(COMMITTED.read_text()))


def operation(method: str, path: str) -> dict[str, Any]:
    return dict(committed()["paths"][path][method])


def test_committed_schema_is_current_and_builds_without_warnings(tmp_path: Path) -> None:
    fresh = tmp_path / "openapi.yaml"
    run = _generate(fresh)
    assert run.returncode == 0, (
        f"schema generation failed or warned (fix it, then run `make schema`):\n{run.stderr}"
    )
    current = COMMITTED.read_text() if COMMITTED.exists() else ""
    generated = fresh.read_text()
    if current != generated:
        diff = "".join(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                generated.splitlines(keepends=True),
                "docs/openapi.yaml (committed)",
                "generated from the code",
                n=2,
            )
        )
        pytest.fail(f"docs/openapi.yaml is out of date: run `make schema`.\n{diff[:6000]}")


def test_schema_endpoint_serves_the_committed_schema(client: Client) -> None:
    answer = client.get("/api/schema/")

    assert answer.status_code == 200
    assert yaml.safe_load(answer.content) == committed()


def test_every_contract_operation_is_documented() -> None:
    documented = {
        (method, path)
        for path, operations in committed()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented == set(CONTRACT)


@pytest.mark.parametrize(("method", "path"), sorted(CONTRACT))
def test_operation_is_described_tagged_and_exemplified(method: str, path: str) -> None:
    op = operation(method, path)

    assert op.get("summary"), "a summary"
    assert op.get("description"), "a description"
    assert len(op["tags"]) == 1
    assert op["tags"][0] in TAGS
    success = op["responses"].get("200") or op["responses"]["204"]
    assert success["description"]
    if "requestBody" in op:
        assert op["requestBody"]["content"]["application/json"]["examples"], "a request example"
    if "200" in op["responses"]:
        content = op["responses"]["200"]["content"]["application/json"]
        assert content.get("examples") or content.get("example"), "an answer example"


@pytest.mark.parametrize(("method", "path"), sorted(CONTRACT))
def test_error_responses_document_every_code_with_an_example(method: str, path: str) -> None:
    responses = operation(method, path)["responses"]
    errors = {status: body for status, body in responses.items() if status >= "400"}
    if (method, path) == ("get", "/healthz"):
        assert set(errors) == {"503"}
        return

    assert set(errors) == set(CONTRACT[(method, path)])
    for status, body in errors.items():
        content = body["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}
        examples = [example["value"] for example in content["examples"].values()]
        assert {example["code"] for example in examples} == CONTRACT[(method, path)][status]
        for example in examples:
            assert example["detail"], example
            if status == "429":
                assert example["retry_after"] > 0, example
            if example["code"] == "invalid_input":
                assert example["fields"], example
        for code in CONTRACT[(method, path)][status]:
            assert f"`{code}`" in body["description"]


def test_error_body_schema() -> None:
    error = committed()["components"]["schemas"]["Error"]

    assert error["required"] == ["code", "detail"]
    assert set(error["properties"]) == {"code", "detail", "fields", "retry_after", "attempts_left"}


def test_jwt_bearer_scheme_protects_the_private_operations() -> None:
    schemes = committed()["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}

    for method, path in CONTRACT:
        security = operation(method, path).get("security", [{}])
        if (method, path) in PUBLIC:
            assert {"bearerAuth": []} not in security, (method, path)
        else:
            assert security == [{"bearerAuth": []}], (method, path)


def test_every_tag_is_described() -> None:
    assert {tag["name"] for tag in committed()["tags"]} == TAGS
    assert all(tag["description"] for tag in committed()["tags"])


_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_only_local_assets(client: Client, url: str) -> None:
    answer = client.get(url)

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/html")
    html = answer.content.decode()
    assert "http://" not in html
    assert "https://" not in html
    assets = _ASSET.findall(html)
    assert any(asset.endswith(".js") for asset in assets)
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    for asset in assets:
        if asset == f"{url}?script=":  # Swagger UI's start-up script, served by the page's view
            assert client.get(asset)["Content-Type"].startswith("application/javascript")
            continue
        assert asset.startswith(static_prefix), asset
        assert finders.find(asset.removeprefix(static_prefix)), f"{asset} is not a static file"
