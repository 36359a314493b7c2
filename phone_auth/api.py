"""HTTP API of phone sign-in: one small view per operation, rules live in services.

The OpenAPI description of these views lives beside them in ``phone_auth.schema``.

``send-code`` is async: it awaits the SMS sender on the event loop, so one server process
keeps answering while hundreds of sends wait on the provider.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from adrf.views import APIView as AsyncAPIView
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from phone_auth import services, tokens
from phone_auth.adapter import get_adapter
from phone_auth.errors import ApplicationError
from phone_auth.keys import public_jwk
from phone_auth.phones import normalize_phone
from phone_auth.ratelimit import client_ip
from phone_auth.serializers import CodeField, PhoneField, StrictSerializer, StringField

_RENDERER = JSONRenderer()


def json_answer(body: dict[str, Any], status_code: int, headers: dict[str, str]) -> HttpResponse:
    """A JSON answer rendered byte for byte as DRF renders it, without DRF's request cycle."""
    return HttpResponse(
        _RENDERER.render(body),
        status=status_code,
        content_type="application/json",
        headers=headers,
    )


def _plain_phone(request: HttpRequest) -> str | None:
    """The E.164 phone of a send-code body of the everyday shape, else ``None``.

    The everyday shape is a UTF-8 JSON object with one key, ``phone``, holding a valid
    number. Anything else (another content type, a body DRF would refuse, an invalid or
    refused number, more keys) is ``None``: DRF's view then gives the exact answer.
    """
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        return None
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (ValueError, RecursionError, RequestDataTooBig):
        return None
    raw = data.get("phone") if isinstance(data, dict) and len(data) == 1 else None
    if not isinstance(raw, str):
        return None
    try:
        return normalize_phone(raw)
    except (DjangoValidationError, ApplicationError):
        return None


def send_body(sent: services.SentCode, request: HttpRequest, ip: str) -> dict[str, Any]:
    """The ``200`` body of send-code (``debug_code`` only where demo mode shows it)."""
    body: dict[str, Any] = {
        "phone": sent.phone,
        "expires_in": sent.expires_in,
        "retry_after": sent.retry_after,
        "code_length": sent.code_length,
    }
    if services.code_visible_to(peer=str(request.META.get("REMOTE_ADDR", "")), ip=ip):
        body["debug_code"] = sent.code
    return body


class SendCodeApi(AsyncAPIView):
    """Send a one-time sign-in code by SMS.

    The everyday request (a JSON body with a valid phone) is answered by a front door that
    skips DRF's request cycle: under a burst of sends that cycle (parsers, negotiation,
    serializers, rendering) was a fifth of a send's CPU on the event loop. Its answers are
    DRF's byte for byte; every other request (and every invalid one) goes through DRF.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Callable[..., Any]:
        """DRF's view behind an async front door for the everyday send."""
        full_way = super().as_view(**initkwargs)
        headers = {"Allow": ", ".join(cls(**initkwargs).allowed_methods)}

        async def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            phone = _plain_phone(request) if request.method == "POST" else None
            if phone is None:
                answer: HttpResponseBase = await full_way(request, *args, **kwargs)
                return answer
            ip = client_ip(request)
            try:
                sent = await services.code_send(phone=phone, ip=ip)
            except ApplicationError as exc:
                return json_answer(exc.body(), exc.status_code, {**headers, **exc.headers()})
            return json_answer(send_body(sent, request, ip), 200, headers)

        view.cls = cls  # type: ignore[attr-defined]  # read by the schema generator
        view.initkwargs = initkwargs  # type: ignore[attr-defined]
        view.full_way = full_way  # type: ignore[attr-defined]  # DRF's own view, for tests
        view.__doc__ = cls.__doc__
        return csrf_exempt(view)

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

    class InputSerializer(StrictSerializer):
        """The phone to send a code to."""

        phone = PhoneField(help_text="Phone number in any usual form; E.164 preferred.")

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

    async def post(self, request: Request) -> Response:
        """Validate the phone, apply limits, store a fresh code and await the sender."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ip = client_ip(request)
        sent = await services.code_send(phone=serializer.validated_data["phone"], ip=ip)
        return Response(send_body(sent, request, ip))


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

    class InputSerializer(StrictSerializer):
        """A phone and the code its SMS carried."""

        phone = PhoneField()
        code = CodeField()

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


class RefreshInputSerializer(StrictSerializer):
    """A refresh token."""

    refresh = StringField(
        trim_whitespace=True, max_length=4096, help_text="A refresh token of this login."
    )


class TokenRefreshApi(APIView):
    """Rotate a refresh token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        """Consume the refresh token once and issue a new pair."""
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = tokens.token_refresh(raw=serializer.validated_data["refresh"])
        return Response({"access": pair.access, "refresh": pair.refresh})


class LogoutApi(APIView):
    """End one login: its refresh tokens and access tokens stop working at once."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        """Revoke the login session of the given refresh token."""
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens.session_logout(user=request.user, raw_refresh=serializer.validated_data["refresh"])  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """End every login of the caller."""

    permission_classes = [IsAuthenticated]

    def post(self, request: Request) -> Response:
        """Revoke all login sessions."""
        StrictSerializer(data=request.data if request.data else {}).is_valid(raise_exception=True)
        tokens.sessions_logout_all(user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksApi(APIView):
    """Public keys that verify access tokens (empty with HMAC signing)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        """The JWKS document."""
        current = tokens.jwt_settings()
        jwk = public_jwk(current.ALGORITHM, str(current.VERIFYING_KEY or ""))
        return Response({"keys": [jwk] if jwk else []})
