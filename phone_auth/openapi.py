"""What drf-spectacular needs to describe the API fully: the error body and its examples,
the bearer scheme of our JWT authentication, our custom input fields, and the routes that
are plain Django views (``/healthz``, ``/livez``).

Each app describes its views in a schema module beside its views (``phone_auth.schema``,
``referrals.schema``) with ``ViewSchema`` and ``name_components``, so the view modules hold
only views. Error responses are built with ``error_doc``: every documented error carries
the contract's body and one example per ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    Direction,
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers

from phone_auth.errors import ApplicationError, TokenNotValidError, error_body

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable error code."},
        "detail": {
            "type": "string",
            "description": "Human-readable message, in the language of `Accept-Language`.",
        },
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "`invalid_input` only: the messages of each rejected field.",
        },
        "retry_after": {
            "type": "integer",
            "description": "429 only: seconds to wait (also in the `Retry-After` header).",
        },
        "attempts_left": {
            "type": "integer",
            "description": "`invalid_code` only: wrong entries left before the code is burned.",
        },
    },
}

JWKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "description": "Empty while tokens are signed with a shared secret (HS256).",
            "items": {
                "type": "object",
                "required": ["kty", "kid"],
                "properties": {
                    "kty": {"type": "string", "enum": ["RSA", "EC"]},
                    "kid": {
                        "type": "string",
                        "description": "RFC 7638 thumbprint; matches the `kid` token header.",
                    },
                    "use": {"type": "string", "enum": ["sig"]},
                    "alg": {"type": "string", "example": "ES256"},
                    "n": {"type": "string", "description": "RSA modulus (base64url)."},
                    "e": {"type": "string", "description": "RSA exponent (base64url)."},
                    "crv": {"type": "string", "description": "EC curve, e.g. `P-256`."},
                    "x": {"type": "string", "description": "EC x coordinate (base64url)."},
                    "y": {"type": "string", "description": "EC y coordinate (base64url)."},
                },
            },
        }
    },
}

JWKS_EXAMPLE: dict[str, Any] = {
    "keys": [
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "Dw6KKxGFprUEzG1Xavf1yBbO5ylGtfP_FulkTi9InSU",
            "y": "rsiCVubpCD4qTLGgaBnP-h3MBr_axD45k3kMasDKWfA",
            "kid": "jJ8zT3OSmfCHCDa5Ki2aH5-A_CthfycGXywGlpvvFsU",
            "alg": "ES256",
            "use": "sig",
        }
    ]
}

HEALTH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "database", "cache"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "down"]},
        "database": {"type": "string", "enum": ["ok", "down"]},
        "cache": {"type": "string", "enum": ["ok", "down"]},
    },
}

LIVE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok"]}},
}


@dataclass(frozen=True)
class ErrorCase:
    """One documented error answer: its ``code``, a sample ``detail`` and extra body keys."""

    code: str
    detail: Any
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, error: type[ApplicationError], **extra: Any) -> ErrorCase:
        """The case of an ``ApplicationError`` subclass, with its default message."""
        return cls(error.code, error.default_detail, extra)

    def with_fields(self, **fields: list[str]) -> ErrorCase:
        """An ``invalid_input`` case naming the rejected fields of one operation."""
        return ErrorCase(self.code, self.detail, {**self.extra, "fields": fields})

    def body(self) -> dict[str, Any]:
        """The JSON body, with English messages."""
        with translation.override("en"):
            return error_body(self.code, self.detail, **self.extra)


INVALID_INPUT = ErrorCase("invalid_input", _("Invalid input."))
NOT_AUTHENTICATED = ErrorCase(
    "not_authenticated", _("Authentication credentials were not provided.")
)
TOKEN_NOT_VALID = ErrorCase.of(TokenNotValidError)
PERMISSION_DENIED = ErrorCase(
    "permission_denied", _("You do not have permission to perform this action.")
)
NOT_FOUND = ErrorCase("not_found", _("Not found."))


RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    int,
    location=OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again (the body's `retry_after`).",
)


class ViewSchema(OpenApiViewExtension):
    """The OpenAPI description of one view (``target_class``), kept out of its module.

    ``operations`` maps each documented method (``get``, ``post``...) to the arguments of
    drf-spectacular's ``extend_schema``. The generator documents a subclass of the view
    that carries them; the view itself is never changed.
    """

    def operations(self) -> dict[str, dict[str, Any]]:
        """``{"post": {"operation_id": ..., "responses": ...}, ...}``."""
        raise NotImplementedError

    def view_replacement(self) -> Any:
        """The view, annotated with ``operations``."""
        view = self.target
        documented = type(
            view.__name__,
            (view,),
            {"__module__": view.__module__, "__doc__": view.__doc__},
        )
        methods = {method: extend_schema(**kwargs) for method, kwargs in self.operations().items()}
        return extend_schema_view(**methods)(documented)


class ComponentName(OpenApiSerializerExtension):
    """Names the component of one serializer, as ``@extend_schema_serializer`` would."""

    component_name = ""

    def get_name(self, auto_schema: AutoSchema, direction: Direction) -> str | None:
        """The name of the serializer's component."""
        return self.component_name or None


def name_components(names: Mapping[type[serializers.BaseSerializer[Any]], str]) -> None:
    """Give each serializer its component name in the document (``{serializer: name}``)."""
    for serializer, name in names.items():
        type(
            f"{name}ComponentName",
            (ComponentName,),
            {"target_class": serializer, "component_name": name, "__module__": __name__},
        )


def error_doc(*cases: ErrorCase, description: str = "") -> OpenApiResponse:
    """An error response: the error body, the codes it may carry and one example per code."""
    codes = ", ".join(f"`{case.code}`" for case in cases)
    text = f"{description} Possible `code` values: {codes}." if description else f"`code`: {codes}."
    return OpenApiResponse(
        ErrorSerializer,
        description=text,
        examples=[
            OpenApiExample(case.code, value=case.body(), response_only=True) for case in cases
        ],
    )


def unauthenticated_doc() -> OpenApiResponse:
    """The ``401`` of every operation that needs a bearer token."""
    return error_doc(
        NOT_AUTHENTICATED,
        TOKEN_NOT_VALID,
        description="No bearer token, or one that is expired, malformed or logged out.",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx/5xx answer; its schema is ``ERROR_SCHEMA``."""


class ErrorSchema(OpenApiSerializerExtension):
    """Documents ``ErrorSerializer`` (a body key is named ``fields``, which no serializer
    can declare)."""

    target_class = ErrorSerializer

    def map_serializer(self, auto_schema: AutoSchema, direction: Direction) -> dict[str, Any]:
        """The error body schema."""
        return ERROR_SCHEMA


class SessionTokenScheme(SimpleJWTScheme):
    """``SessionTokenAuthentication`` is simplejwt's bearer scheme (Swagger's Authorize)."""

    target_class = "phone_auth.authentication.SessionTokenAuthentication"
    name = "bearerAuth"


class PhoneFieldSchema(OpenApiSerializerFieldExtension):
    """A phone number as a person types it."""

    target_class = "phone_auth.serializers.PhoneField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> Any:
        """A string of at most 32 characters."""
        return {
            "type": "string",
            "maxLength": 32,
            "example": "+79110000000",
            "description": (
                "Phone number in any usual form: `+7 (911) 000-00-00`, `89110000000` and "
                "`9110000000` are the same person (no prefix: the default region, RU)."
            ),
        }


class CodeFieldSchema(OpenApiSerializerFieldExtension):
    """The digits of a sign-in code."""

    target_class = "phone_auth.serializers.CodeField"

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> Any:
        """ASCII digits; their number is ``code_length`` of the send-code answer."""
        return {
            "type": "string",
            "pattern": r"^\s*[0-9]{4,10}\s*$",
            "example": "1234",
            "description": (
                "The code from the SMS: exactly `code_length` digits "
                "(see the send-code answer; 4 by default)."
            ),
        }


def add_healthz(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: document ``GET /healthz`` and ``GET /livez``, plain Django views."""
    paths = result.setdefault("paths", {})
    paths["/healthz"] = {
        "get": {
            "operationId": "healthz",
            "summary": "Readiness check",
            "description": (
                "Checks that the database and the cache answer, each with a deadline, so it "
                "answers within 2 s even when one of them hangs. Meant for load balancers "
                "(send traffic only while it is `200`); needs no authentication."
            ),
            "tags": ["service"],
            "responses": {
                "200": {
                    "description": "Everything answers.",
                    "content": {
                        "application/json": {
                            "schema": HEALTH_SCHEMA,
                            "example": {"status": "ok", "database": "ok", "cache": "ok"},
                        }
                    },
                },
                "503": {
                    "description": "Something is down; the body names it.",
                    "headers": {
                        "Retry-After": {
                            "schema": {"type": "integer"},
                            "description": "Seconds before asking again.",
                        }
                    },
                    "content": {
                        "application/json": {
                            "schema": HEALTH_SCHEMA,
                            "example": {"status": "down", "database": "ok", "cache": "down"},
                        }
                    },
                },
            },
        }
    }
    paths["/livez"] = {
        "get": {
            "operationId": "livez",
            "summary": "Liveness check",
            "description": (
                "`200` while the process serves requests. Touches neither the database nor "
                "the cache and is answered ahead of the concurrency limit, so it stays fast "
                "under overload and while a dependency is down: meant for container health "
                "checks (restart only when this fails); needs no authentication."
            ),
            "tags": ["service"],
            "responses": {
                "200": {
                    "description": "The process serves requests.",
                    "content": {
                        "application/json": {
                            "schema": LIVE_SCHEMA,
                            "example": {"status": "ok"},
                        }
                    },
                }
            },
        }
    }
    return result
