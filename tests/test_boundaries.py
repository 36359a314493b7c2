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


def test_the_user_admin_is_the_services_and_referrals_never_registers_one() -> None:
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    from config.admin import PhoneUserAdmin

    assert type(admin.site._registry[get_user_model()]) is PhoneUserAdmin
    assert "register(" not in (ROOT / "referrals" / "admin.py").read_text().replace(
        "@admin.register(", ""
    )


def test_redoc_template_is_the_services() -> None:
    template = get_template("config/redoc.html")

    assert Path(template.origin.name).is_relative_to(ROOT / "config" / "templates")
    assert not (ROOT / "phone_auth" / "templates").exists()


# The HTTP layer of each app (views, their serializers and docs, URLs, admin, app config);
# every other module is below it: rules, reads, data and the host's hooks.
HTTP_LAYER = {
    "__init__", "api", "schema", "openapi", "serializers", "parsers", "authentication",
    "health", "urls", "jwks_urls", "health_urls", "admin", "apps",
}  # fmt: skip
UPPER_LAYERS = {"api", "schema", "openapi", "serializers", "urls", "admin", "views"}
LOWER_LAYERS = [
    path
    for app in ("phone_auth", "referrals")
    for path in sorted((ROOT / app).glob("*.py"))
    if path.stem not in HTTP_LAYER
]


@pytest.mark.parametrize("path", LOWER_LAYERS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_no_lower_layer_imports_a_view_module(path: Path) -> None:
    upward = {
        name
        for name in imports_of(path)
        if name.split(".")[0] in {"phone_auth", "referrals", "phone_referrals_web", "config"}
        and set(name.split(".")[1:2]) & UPPER_LAYERS
    }
    assert not upward


def test_web_forms_parse_with_plain_validators_not_drf() -> None:
    imports = imports_of(ROOT / "phone_referrals_web" / "forms.py")

    assert not {name for name in imports if name.split(".")[0] == "rest_framework"}
    assert not {name for name in imports if name.startswith("phone_auth.serializers")}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1234", "1234"), (" 1234 ", "1234"), ("\uff11\uff12\uff13\uff14", None), ("12a4", None)],
)
def test_one_code_validator_for_the_api_and_the_pages(typed: str, expected: str | None) -> None:
    from django.core.exceptions import ValidationError

    from phone_auth.codes import normalize_code
    from phone_auth.serializers import CodeField
    from phone_referrals_web.forms import CodeForm

    form = CodeForm(data={"code": typed})
    if expected is None:
        with pytest.raises(ValidationError):
            normalize_code(typed)
        assert not form.is_valid()
        assert form.errors["code"] == ["Enter the 4-digit code from the SMS."]
    else:
        assert normalize_code(typed) == expected
        assert CodeField().to_internal_value(typed) == expected
        assert form.is_valid()
        assert form.cleaned_data["code"] == expected
