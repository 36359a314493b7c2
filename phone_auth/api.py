"""HTTP API of phone sign-in: one small view per operation, rules live in services.

``send-code`` is async: it awaits the SMS sender on the event loop, so one server process
keeps answering while hundreds of sends wait on the provider.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adrf.views import APIView as AsyncAPIView
from django.http import HttpRequest
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from phone_auth import services, tokens
from phone_auth.adapter import get_adapter
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
from phone_auth.keys import public_jwk
from phone_auth.openapi import (
    INVALID_INPUT,
    JWKS_EXAMPLE,
    JWKS_SCHEMA,
    NOT_AUTHENTICATED,
    TOKEN_NOT_VALID,
    ErrorCase,
    error_doc,
    unauthenticated_doc,
)
from phone_auth.ratelimit import client_ip
from phone_auth.serializers import CodeField, PhoneField, StrictSerializer, StringField

PROFILE_DOC_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "phone": "+79110000000",
    "invite_code": "7HJ2QK",
    "activated_invite_code": None,
    "inviter_phone": None,
    "referrals": [],
    "referrals_count": 0,
    "points": 0,
    "first_name": "",
    "last_name": "",
    "email": "",
    "date_joined": "2026-11-21T10:00:00Z",
}
TOKENS_DOC_EXAMPLE: dict[str, str] = {
    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
}
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    int,
    location=OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again (the body's `retry_after`).",
)
INVALID_REFRESH_INPUT = INVALID_INPUT.with_fields(refresh=["This field is required."])


class SendCodeApi(AsyncAPIView):
    """Send a one-time sign-in code by SMS."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    async def async_dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """adrf's dispatch, with ``initial`` run on the event loop instead of a thread.

        This view has no authentication, no throttles and only ``AllowAny``, so ``initial``
        (content negotiation, version, permissions) does no I/O; in a thread it would cost a
        thread hop per request and, under ASGI, a thread kept for the request's SMS wait.
        """
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.initial(drf_request, *args, **kwargs)
            method = (drf_request.method or "").lower()
            handler: Any = (
                getattr(self, method, self.http_method_not_allowed)
                if method in self.http_method_names
                else self.http_method_not_allowed
            )
            response = handler(drf_request, *args, **kwargs)
            if asyncio.iscoroutine(response):
                response = await response
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return self.response

    @extend_schema_serializer(component_name="SendCode")
    class InputSerializer(StrictSerializer):
        """The phone to send a code to."""

        phone = PhoneField(help_text="Phone number in any usual form; E.164 preferred.")

    @extend_schema_serializer(component_name="CodeSent")
    class OutputSerializer(serializers.Serializer):
        """The code is on its way."""

        phone = serializers.CharField(help_text="The phone in E.164, as the code was sent.")
        expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")
        retry_after = serializers.IntegerField(
            help_text="Seconds before another code can be requested for this phone."
        )
        code_length = serializers.IntegerField(help_text="Number of digits in the code.")
        debug_code = serializers.CharField(
            required=False,
            help_text=(
                "Demo mode only: the code (local development: loopback clients only; "
                "`AUTH_EXPOSE_CODES=true`: every client)."
            ),
        )

    @extend_schema(
        operation_id="auth_send_code",
        tags=["auth"],
        summary="Send a sign-in code by SMS",
        description=(
            "Generates a fresh one-time code for the phone (any earlier code of that phone "
            "stops working) and sends it by SMS. The answer is the same whether or not the "
            "phone already has an account; no user is created here. Only numbers that can "
            "receive an SMS (mobile, fixed-line-or-mobile) get a code. In demo mode the "
            "answer also carries `debug_code` (local development: loopback clients only; "
            "`AUTH_EXPOSE_CODES=true`: every client).\n\n"
            "Limits: one code per phone and client per `retry_after` seconds "
            "(`resend_too_soon`), and hourly/daily budgets per client and phone, per client, "
            "per phone and in all (`rate_limited`). A refused request counts against no "
            "budget, and another client's requests never hold back a phone's owner."
        ),
        request=InputSerializer,
        responses={
            200: OpenApiResponse(OutputSerializer, description="The code is on its way."),
            400: error_doc(
                INVALID_INPUT.with_fields(phone=["Enter a valid phone number."]),
                ErrorCase.of(PhoneRegionNotAllowedError),
                description=(
                    "The phone is not a valid number, cannot receive an SMS code, or its "
                    "country is not accepted."
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
        parameters=[RETRY_AFTER_HEADER],
        examples=[
            OpenApiExample("Request", value={"phone": "+7 911 000-00-00"}, request_only=True),
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
    )
    async def post(self, request: Request) -> Response:
        """Validate the phone, apply limits, store a fresh code and await the sender."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ip = client_ip(request)
        sent = await services.code_send(phone=serializer.validated_data["phone"], ip=ip)
        body: dict[str, Any] = {
            "phone": sent.phone,
            "expires_in": sent.expires_in,
            "retry_after": sent.retry_after,
            "code_length": sent.code_length,
        }
        if services.code_visible_to(peer=str(request.META.get("REMOTE_ADDR", "")), ip=ip):
            body["debug_code"] = sent.code
        return Response(body)


class TokenPairSerializer(serializers.Serializer):
    """Tokens of a login."""

    access = serializers.CharField(
        help_text="Short-lived JWT; send it as `Authorization: Bearer <access>`."
    )
    refresh = serializers.CharField(
        help_text="Long-lived JWT for `/auth/token/refresh/`; each one works once."
    )


class VerifyCodeApi(APIView):
    """Exchange a code for JWT tokens; the first success registers the user."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="VerifyCode")
    class InputSerializer(StrictSerializer):
        """A phone and the code its SMS carried."""

        phone = PhoneField()
        code = CodeField()

    @extend_schema_serializer(component_name="SignIn")
    class OutputSerializer(TokenPairSerializer):
        """A new login: its tokens and the caller's profile."""

        token_type = serializers.CharField(help_text="Always `Bearer`.")
        expires_in = serializers.IntegerField(help_text="Seconds the access token lives.")
        is_new_user = serializers.BooleanField(
            help_text="True when this sign-in created the account."
        )
        profile = serializers.DictField(
            help_text="The caller's profile: the same body as `GET /api/v1/profile/`."
        )

    @extend_schema(
        operation_id="auth_verify_code",
        tags=["auth"],
        summary="Sign in with the code",
        description=(
            "Checks the latest code sent to the phone and opens a login session: an access "
            "token (send it as `Authorization: Bearer <access>`) and a refresh token. The "
            "first successful sign-in of a phone creates the user and its invite code "
            "(`is_new_user`). A code works once, expires after `expires_in` seconds, and is "
            "burned after 3 wrong entries from the client that asked for it (any other "
            "client gets its own 3 entries and cannot burn it). Wrong codes are budgeted "
            "per client (20 an hour across phones: `rate_limited`), per client and phone "
            "(10 a day) and per phone (30 a day across clients: `too_many_attempts`)."
        ),
        request=InputSerializer,
        responses={
            200: OpenApiResponse(OutputSerializer, description="Signed in: a new login session."),
            400: error_doc(
                INVALID_INPUT.with_fields(code=["Enter the 4-digit code from the SMS."]),
                ErrorCase.of(InvalidCodeError, attempts_left=2),
                ErrorCase.of(NoActiveCodeError),
                ErrorCase.of(PhoneRegionNotAllowedError),
                description=(
                    "Malformed input, a wrong code (`attempts_left` says how many tries "
                    "remain), or no valid code for this phone (never requested, expired, "
                    "used or replaced)."
                ),
            ),
            429: error_doc(
                ErrorCase.of(TooManyAttemptsError, retry_after=300),
                ErrorCase.of(RateLimitedError, retry_after=1800),
                description=(
                    "The code is burned, the phone's wrong-code budget is spent, or this "
                    "client's hourly wrong-code budget is spent."
                ),
            ),
            503: error_doc(
                ErrorCase.of(ServiceUnavailableError, retry_after=5),
                description="The database or cache is unreachable; try again shortly.",
            ),
        },
        parameters=[RETRY_AFTER_HEADER],
        examples=[
            OpenApiExample(
                "Request", value={"phone": "+79110000000", "code": "1234"}, request_only=True
            ),
            OpenApiExample(
                "Signed in",
                value={
                    **TOKENS_DOC_EXAMPLE,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "is_new_user": True,
                    "profile": PROFILE_DOC_EXAMPLE,
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        """Check the code, then open a login session."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signed_in = services.sign_in(
            phone=serializer.validated_data["phone"],
            code=serializer.validated_data["code"],
            ip=client_ip(request),
            request=request._request,
        )
        pair = signed_in.tokens
        return Response(
            {
                "access": pair.access,
                "refresh": pair.refresh,
                "token_type": "Bearer",
                "expires_in": pair.expires_in,
                "is_new_user": signed_in.is_new_user,
                "profile": get_adapter().profile_data(user=signed_in.user),
            }
        )


@extend_schema_serializer(component_name="Refresh")
class RefreshInputSerializer(StrictSerializer):
    """A refresh token."""

    refresh = StringField(
        trim_whitespace=True, max_length=4096, help_text="A refresh token of this login."
    )


class TokenRefreshApi(APIView):
    """Rotate a refresh token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_refresh",
        tags=["auth"],
        summary="Rotate the refresh token",
        description=(
            "Consumes the refresh token (exactly once) and answers a new access/refresh "
            "pair. Replaying a consumed token is `401`; a replay more than "
            "`AUTH_REFRESH_REUSE_GRACE` seconds (default 10) after it was consumed is taken "
            "as theft and ends that whole login. An access token is not a refresh token."
        ),
        request=RefreshInputSerializer,
        responses={
            200: OpenApiResponse(
                TokenPairSerializer, description="A new pair; the old refresh token is spent."
            ),
            400: error_doc(INVALID_REFRESH_INPUT, description="No refresh token in the body."),
            401: error_doc(
                ErrorCase.of(TokenNotValidError),
                description="Expired, malformed, consumed or revoked token.",
            ),
        },
        examples=[
            OpenApiExample(
                "Request", value={"refresh": TOKENS_DOC_EXAMPLE["refresh"]}, request_only=True
            ),
            OpenApiExample("New tokens", value=TOKENS_DOC_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        """Consume the refresh token once and issue a new pair."""
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = tokens.token_refresh(raw=serializer.validated_data["refresh"])
        return Response({"access": pair.access, "refresh": pair.refresh})


class LogoutApi(APIView):
    """End one login: its refresh tokens and access tokens stop working at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        tags=["auth"],
        summary="Log out of this login",
        description=(
            "Ends the login that the refresh token belongs to: its refresh tokens and its "
            "access tokens stop working at once. Other logins of the user stay open."
        ),
        request=RefreshInputSerializer,
        responses={
            204: OpenApiResponse(description="Logged out."),
            400: error_doc(INVALID_REFRESH_INPUT, description="No refresh token in the body."),
            401: error_doc(
                NOT_AUTHENTICATED,
                TOKEN_NOT_VALID,
                description=(
                    "No valid bearer token, or a refresh token that is not valid or belongs "
                    "to someone else."
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "Request", value={"refresh": TOKENS_DOC_EXAMPLE["refresh"]}, request_only=True
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        """Revoke the login session of the given refresh token."""
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens.session_logout(user=request.user, raw_refresh=serializer.validated_data["refresh"])  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """End every login of the caller."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout_all",
        tags=["auth"],
        summary="Log out everywhere",
        description="Ends every login of the caller; the body is empty (or `{}`).",
        request=None,
        responses={
            204: OpenApiResponse(description="Every login ended."),
            400: error_doc(
                INVALID_INPUT.with_fields(refresh=["This field cannot be set."]),
                description="The body holds keys; it must be empty.",
            ),
            401: unauthenticated_doc(),
        },
    )
    def post(self, request: Request) -> Response:
        """Revoke all login sessions."""
        StrictSerializer(data=request.data if request.data else {}).is_valid(raise_exception=True)
        tokens.sessions_logout_all(user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksApi(APIView):
    """Public keys that verify access tokens (empty with HMAC signing)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="jwks",
        tags=["service"],
        summary="Public keys of access tokens (JWKS)",
        description=(
            "The public keys, with `kid`, that other services use to verify access tokens "
            "(claims `iss` and `aud` set) when tokens are signed with RS256/ES256. Empty "
            "`keys` while tokens are signed with a shared secret (HS256)."
        ),
        responses={
            200: OpenApiResponse(
                JWKS_SCHEMA,
                description="A JSON Web Key Set.",
                examples=[OpenApiExample("ES256 key", value=JWKS_EXAMPLE)],
            )
        },
    )
    def get(self, request: Request) -> Response:
        """The JWKS document."""
        current = tokens.jwt_settings()
        jwk = public_jwk(current.ALGORITHM, str(current.VERIFYING_KEY or ""))
        return Response({"keys": [jwk] if jwk else []})


class ApiNotFound(APIView):
    """Any unknown ``/api/`` path: the JSON ``not_found`` body even with DEBUG on."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    schema = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """Every method answers 404."""
        self.http_method_names = [m for m in self.http_method_names if m != "options"]
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Raise before method dispatch so 405 is never given for unknown paths."""
        raise NotFound()
