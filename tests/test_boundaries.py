"""Each part of the code sits at its own level: the apps hold what a host project reuses,
``config`` what only the standalone service needs, and no layer reaches up to one above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.template.loader import get_template
from django.urls import get_resolver

from tests.live_service import ROOT

SERVICE_HANDLERS = (
    "json_bad_request",
    "json_permission_denied",
    "json_not_found",
    "json_server_error",
    "json_method_not_allowed",
    "json_csrf_failure",
)


def imports_of(path: Path) -> set[str]:
    """Every module the file imports from, at its top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_django_error_handlers_are_the_services() -> None:
    resolver = get_resolver()
    for status in (400, 403, 404, 500):
        handler = resolver.urlconf_module.__dict__[f"handler{status}"]
        assert handler.startswith("config."), (status, handler)


@pytest.mark.parametrize("name", SERVICE_HANDLERS)
def test_phone_auth_keeps_the_error_body_not_the_services_handler_views(name: str) -> None:
    from phone_auth import errors

    assert not hasattr(errors, name)
    assert callable(errors.json_error)
    assert callable(errors.error_body)


def test_catch_all_api_404_is_the_services() -> None:
    from phone_auth import api

    assert not hasattr(api, "ApiNotFound")
    match = get_resolver().resolve("/api/nowhere/")
    assert match.func.cls.__module__ == "config.views"  # type: ignore[attr-defined]


def test_redoc_template_is_the_services() -> None:
    template = get_template("config/redoc.html")

    assert Path(template.origin.name).is_relative_to(ROOT / "config" / "templates")
    assert not (ROOT / "phone_auth" / "templates").exists()
