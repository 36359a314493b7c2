"""The OpenAPI description of the sign-in views of ``phone_auth.api``.

Summaries, descriptions, documented errors and examples of each operation, and the names
of the serializers' components. The app config imports this module, so the descriptions
are registered with drf-spectacular whenever the app is installed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from phone_auth import api
from phone_auth.errors import (
    InvalidCodeError,
    NoActiveCodeError,
    PhoneRegionNotAllowedError,
    RateLimitedError,
    ResendTooSoonError,
    ServiceUnavailableError,
    SmsUnavailableError,
    TokenNotValidError,
    TooManyAttemptsError,
)
from phone_auth.openapi import (
    INVALID_INPUT,
    JWKS_EXAMPLE,
    JWKS_SCHEMA,
    NOT_AUTHENTICATED,
    RETRY_AFTER_HEADER,
    TOKEN_NOT_VALID,
    ErrorCase,
    ViewSchema,
    error_doc,
    name_components,
    unauthenticated_doc,
)

# The profile of a new user as the default adapter answers it: only the user's own fields.
PROFILE_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "phone": "+79110000000",
    "first_name": "",
    "last_name": "",
    "email": "",
    "date_joined": "2026-11-21T10:00:00Z",
}
TOKENS_EXAMPLE: dict[str, str] = {
    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
}
INVALID_REFRESH_INPUT = INVALID_INPUT.with_fields(refresh=["This field is required."])

name_components(
    {
        api.SendCodeApi.InputSerializer: "SendCode",
        api.SendCodeApi.OutputSerializer: "CodeSent",
        api.VerifyCodeApi.InputSerializer: "VerifyCode",
        api.VerifyCodeApi.OutputSerializer: "SignIn",
        api.RefreshInputSerializer: "Refresh",
    }
)


class SendCodeSchema(ViewSchema):
    """``POST /auth/send-code/``."""

    target_class = api.SendCodeApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """Send a code."""
        return {
            "post": {
                "operation_id": "auth_send_code",
                "tags": ["auth"],
                "summary": "Send a sign-in code by SMS",
                "description": (
                    "Generates a fresh one-time code for the phone (any earlier code of that "
                    "phone stops working) and sends it by SMS. The answer is the same whether "
                    "or not the phone already has an account; no user is created here. Only "
                    "numbers that can receive an SMS (mobile, fixed-line-or-mobile) get a "
                    "code. In demo mode the answer also carries `debug_code` (local "
                    "development: loopback clients only; `AUTH_EXPOSE_CODES=true`: every "
                    "client).\n\n"
                    "Limits: one code per phone and client per `retry_after` seconds "
                    "(`resend_too_soon`), and hourly/daily budgets per client and phone, per "
                    "client, per phone and in all (`rate_limited`). A refused request counts "
                    "against no budget, and another client's requests never hold back a "
                    "phone's owner."
                ),
                "request": api.SendCodeApi.InputSerializer,
                "responses": {
                    200: OpenApiResponse(
                        api.SendCodeApi.OutputSerializer, description="The code is on its way."
                    ),
                    400: error_doc(
                        INVALID_INPUT.with_fields(phone=["Enter a valid phone number."]),
                        ErrorCase.of(PhoneRegionNotAllowedError),
                        description=(
                            "The phone is not a valid number, cannot receive an SMS code, or "
                            "its country is not accepted."
                        ),
                    ),
                    429: error_doc(
                        ErrorCase.of(ResendTooSoonError, retry_after=42),
                        ErrorCase.of(RateLimitedError, retry_after=1800),
                        description="Too soon after the last code, or a sending budget is spent.",
                    ),
                    503: error_doc(
                        ErrorCase.of(SmsUnavailableError),
                        ErrorCase.of(ServiceUnavailableError, retry_after=5),
                        description=(
                            "The SMS provider failed, or the database or cache is unreachable "
                            "(nothing was sent); try again later."
                        ),
                    ),
                },
                "parameters": [RETRY_AFTER_HEADER],
                "examples": [
                    OpenApiExample(
                        "Request", value={"phone": "+7 911 000-00-00"}, request_only=True
                    ),
                    OpenApiExample(
                        "Code sent",
                        value={
                            "phone": "+79110000000",
                            "expires_in": 300,
                            "retry_after": 60,
                            "code_length": 4,
                        },
                        response_only=True,
                    ),
                    OpenApiExample(
                        "Code sent (demo mode)",
                        value={
                            "phone": "+79110000000",
                            "expires_in": 300,
                            "retry_after": 60,
                            "code_length": 4,
                            "debug_code": "1234",
                        },
                        response_only=True,
                    ),
                ],
            }
        }


class VerifyCodeSchema(ViewSchema):
    """``POST /auth/verify-code/``.

    What a sign-up makes and the answer's ``profile`` are the adapter's: these are the
    default adapter's; an app whose adapter does more documents it in a subclass.
    """

    target_class = api.VerifyCodeApi

    def signed_up(self) -> str:
        """What the first sign-in of a phone creates."""
        return "the user"

    def profile_example(self) -> dict[str, Any]:
        """The ``profile`` of a new user."""
        return PROFILE_EXAMPLE

    def operations(self) -> dict[str, dict[str, Any]]:
        """Sign in."""
        return {
            "post": {
                "operation_id": "auth_verify_code",
                "tags": ["auth"],
                "summary": "Sign in with the code",
                "description": (
                    "Checks the latest code sent to the phone and opens a login session: an "
                    "access token (send it as `Authorization: Bearer <access>`) and a refresh "
                    f"token. The first successful sign-in of a phone creates {self.signed_up()} "
                    "(`is_new_user`). A code works once, expires after "
                    "`expires_in` seconds, and is burned after 3 wrong entries from the client "
                    "that asked for it (any other client gets its own 3 entries and cannot "
                    "burn it). Wrong codes are budgeted per client (20 an hour across phones: "
                    "`rate_limited`), per client and phone (10 a day) and per phone (30 a day "
                    "across clients: `too_many_attempts`)."
                ),
                "request": api.VerifyCodeApi.InputSerializer,
                "responses": {
                    200: OpenApiResponse(
                        api.VerifyCodeApi.OutputSerializer,
                        description="Signed in: a new login session.",
                    ),
                    400: error_doc(
                        INVALID_INPUT.with_fields(code=["Enter the 4-digit code from the SMS."]),
                        ErrorCase.of(InvalidCodeError, attempts_left=2),
                        ErrorCase.of(NoActiveCodeError),
                        ErrorCase.of(PhoneRegionNotAllowedError),
                        description=(
                            "Malformed input, a wrong code (`attempts_left` says how many "
                            "tries remain), or no valid code for this phone (never requested, "
                            "expired, used or replaced)."
                        ),
                    ),
                    429: error_doc(
                        ErrorCase.of(TooManyAttemptsError, retry_after=300),
                        ErrorCase.of(RateLimitedError, retry_after=1800),
                        description=(
                            "The code is burned, the phone's wrong-code budget is spent, or "
                            "this client's hourly wrong-code budget is spent."
                        ),
                    ),
                    503: error_doc(
                        ErrorCase.of(ServiceUnavailableError, retry_after=5),
                        description="The database or cache is unreachable; try again shortly.",
                    ),
                },
                "parameters": [RETRY_AFTER_HEADER],
                "examples": [
                    OpenApiExample(
                        "Request",
                        value={"phone": "+79110000000", "code": "1234"},
                        request_only=True,
                    ),
                    OpenApiExample(
                        "Signed in",
                        value={
                            **TOKENS_EXAMPLE,
                            "token_type": "Bearer",
                            "expires_in": 300,
                            "is_new_user": True,
                            "profile": self.profile_example(),
                        },
                        response_only=True,
                    ),
                ],
            }
        }


class TokenRefreshSchema(ViewSchema):
    """``POST /auth/token/refresh/``."""

    target_class = api.TokenRefreshApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """Rotate a refresh token."""
        return {
            "post": {
                "operation_id": "auth_token_refresh",
                "tags": ["auth"],
                "summary": "Rotate the refresh token",
                "description": (
                    "Consumes the refresh token (exactly once) and answers a new "
                    "access/refresh pair. Replaying a consumed token is `401`; a replay more "
                    "than `AUTH_REFRESH_REUSE_GRACE` seconds (default 10) after it was "
                    "consumed is taken as theft and ends that whole login. An access token "
                    "is not a refresh token."
                ),
                "request": api.RefreshInputSerializer,
                "responses": {
                    200: OpenApiResponse(
                        api.TokenPairSerializer,
                        description="A new pair; the old refresh token is spent.",
                    ),
                    400: error_doc(
                        INVALID_REFRESH_INPUT, description="No refresh token in the body."
                    ),
                    401: error_doc(
                        ErrorCase.of(TokenNotValidError),
                        description="Expired, malformed, consumed or revoked token.",
                    ),
                },
                "examples": [
                    OpenApiExample(
                        "Request", value={"refresh": TOKENS_EXAMPLE["refresh"]}, request_only=True
                    ),
                    OpenApiExample("New tokens", value=TOKENS_EXAMPLE, response_only=True),
                ],
            }
        }


class LogoutSchema(ViewSchema):
    """``POST /auth/logout/``."""

    target_class = api.LogoutApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """End one login."""
        return {
            "post": {
                "operation_id": "auth_logout",
                "tags": ["auth"],
                "summary": "Log out of this login",
                "description": (
                    "Ends the login that the refresh token belongs to: its refresh tokens and "
                    "its access tokens stop working at once. Other logins of the user stay "
                    "open."
                ),
                "request": api.RefreshInputSerializer,
                "responses": {
                    204: OpenApiResponse(description="Logged out."),
                    400: error_doc(
                        INVALID_REFRESH_INPUT, description="No refresh token in the body."
                    ),
                    401: error_doc(
                        NOT_AUTHENTICATED,
                        TOKEN_NOT_VALID,
                        description=(
                            "No valid bearer token, or a refresh token that is not valid or "
                            "belongs to someone else."
                        ),
                    ),
                },
                "examples": [
                    OpenApiExample(
                        "Request", value={"refresh": TOKENS_EXAMPLE["refresh"]}, request_only=True
                    ),
                ],
            }
        }


class LogoutAllSchema(ViewSchema):
    """``POST /auth/logout-all/``."""

    target_class = api.LogoutAllApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """End every login."""
        return {
            "post": {
                "operation_id": "auth_logout_all",
                "tags": ["auth"],
                "summary": "Log out everywhere",
                "description": "Ends every login of the caller; the body is empty (or `{}`).",
                "request": None,
                "responses": {
                    204: OpenApiResponse(description="Every login ended."),
                    400: error_doc(
                        INVALID_INPUT.with_fields(refresh=["This field cannot be set."]),
                        description="The body holds keys; it must be empty.",
                    ),
                    401: unauthenticated_doc(),
                },
            }
        }


class JwksSchema(ViewSchema):
    """``GET /.well-known/jwks.json``."""

    target_class = api.JwksApi

    def operations(self) -> dict[str, dict[str, Any]]:
        """The public keys."""
        return {
            "get": {
                "operation_id": "jwks",
                "tags": ["service"],
                "summary": "Public keys of access tokens (JWKS)",
                "description": (
                    "The public keys, with `kid`, that other services use to verify access "
                    "tokens (claims `iss` and `aud` set) when tokens are signed with "
                    "RS256/ES256. Empty `keys` while tokens are signed with a shared secret "
                    "(HS256)."
                ),
                "responses": {
                    200: OpenApiResponse(
                        JWKS_SCHEMA,
                        description="A JSON Web Key Set.",
                        examples=[OpenApiExample("ES256 key", value=JWKS_EXAMPLE)],
                    )
                },
            }
        }
