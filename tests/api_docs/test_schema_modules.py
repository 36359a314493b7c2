"""Where the OpenAPI description lives: in each app's schema module, not in its views.

The view modules import nothing from drf-spectacular; the document built from the schema
modules is the committed one (``test_schema.py``), and the sign-in answer's ``profile``
is documented by whoever answers it: ``phone_auth`` alone names only the user's own
fields, the referral program adds its own when its adapter answers sign-ins.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator

from tests.live_service import ROOT

VIEW_MODULES = ["phone_auth/api.py", "referrals/api.py"]
REFERRAL_FIELDS = {
    "invite_code",
    "activated_invite_code",
    "inviter_phone",
    "referrals",
    "referrals_count",
    "points",
}


def imported_modules(path: str) -> set[str]:
    """Every module the file at ``path`` imports from."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", VIEW_MODULES)
def test_view_modules_hold_no_openapi_detail(path: str) -> None:
    imports = imported_modules(path)
    assert not {name for name in imports if name.split(".")[0] == "drf_spectacular"}
    assert not {name for name in imports if name.endswith((".openapi", ".schema"))}
    assert "extend_schema" not in (ROOT / path).read_text(encoding="utf-8")


def sign_in_profile_example(urlconf: str | None = None) -> tuple[dict[str, Any], str]:
    """The ``profile`` of the documented sign-in answer, and the operation's description."""
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/auth/verify-code/"]["post"]
    content = operation["responses"]["200"]["content"]["application/json"]
    return content["examples"]["SignedIn"]["value"]["profile"], operation["description"]


def test_referral_adapter_documents_the_referral_profile_at_sign_in() -> None:
    profile, description = sign_in_profile_example()
    assert set(profile) >= REFERRAL_FIELDS
    assert profile["referrals"] == []
    assert profile["activated_invite_code"] is None
    assert "creates the user and its invite code" in description


@override_settings(PHONE_AUTH_ADAPTER="phone_auth.adapter.DefaultAdapter")
def test_phone_auth_alone_documents_no_referral_field() -> None:
    profile, description = sign_in_profile_example()
    assert set(profile) == {"id", "phone", "first_name", "last_name", "email", "date_joined"}
    assert "invite" not in description
