"""One application error type and the one handler that turns every error into the JSON body.

Every 4xx/5xx answer of the API is ``{"code": ..., "detail": ..., ...extra}``; services
raise ``ApplicationError`` subclasses, and DRF's own errors (validation, authentication,
404, 405, parse errors) are mapped here too, so no view builds an error body by hand.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business-rule failure with a stable ``code`` and a localized ``detail``."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "error"
    default_detail: Any = _("The request could not be completed.")

    def __init__(self, detail: Any = None, **extra: Any) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.extra = extra
        super().__init__(str(self.detail))

    def body(self) -> dict[str, Any]:
        """The JSON body of this error."""
        return error_body(self.code, self.detail, **self.extra)

    def headers(self) -> dict[str, str]:
        """Extra response headers (``Retry-After`` for 429s)."""
        retry_after = self.extra.get("retry_after")
        return {"Retry-After": str(retry_after)} if retry_after is not None else {}


class RateLimitedError(ApplicationError):
    """A budget or limit is spent; ``retry_after`` says for how long."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    default_detail = _("Too many requests. Try again later.")

    def __init__(self, retry_after: float, detail: Any = None) -> None:
        super().__init__(detail, retry_after=max(1, math.ceil(retry_after)))


class InvalidInputError(ApplicationError):
    """Input a rule refuses after the request parsed, with the same body as a validation error."""

    code = "invalid_input"
    default_detail = _("Invalid input.")

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(None, fields=fields)


SERVER_ERROR_DETAIL = _("Server error. Please try again later.")


def error_body(code: str, detail: Any, **extra: Any) -> dict[str, Any]:
    """The contract's error body: the one place its shape is written."""
    return {"code": code, "detail": str(detail), **extra}


def error_response(
    code: str, detail: Any, http_status: int, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """A DRF response carrying the contract's error body."""
    return Response(error_body(code, detail, **extra), status=http_status, headers=headers)


def json_error(code: str, detail: Any, http_status: int, **extra: Any) -> JsonResponse:
    """The same body from a plain Django view or handler."""
    return JsonResponse(error_body(code, detail, **extra), status=http_status)


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for value in detail for msg in _flatten(value)]
    return [str(detail)]


def validation_fields(detail: Any) -> dict[str, list[str]]:
    """DRF's validation detail as ``{"field": ["message", ...]}``."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


_DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "token_not_valid",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def _drf_code(exc: exceptions.APIException) -> str:
    for klass in type(exc).__mro__:
        if klass in _DRF_CODES:
            return _DRF_CODES[klass]
    return "error"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every exception becomes the contract's JSON error."""
    if isinstance(exc, ApplicationError):
        return Response(exc.body(), status=exc.status_code, headers=exc.headers())
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            "request_too_large",
            _("The request body is too large."),
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            "invalid_input",
            _("Invalid input."),
            status.HTTP_400_BAD_REQUEST,
            fields=validation_fields(exc.detail),
        )
    if isinstance(exc, exceptions.ParseError):
        return error_response(
            "invalid_input",
            _("Malformed request body: send a JSON object."),
            status.HTTP_400_BAD_REQUEST,
            fields={"non_field_errors": [str(exc.detail)]},
        )
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        throttle_wait = getattr(exc, "wait", None)
        if isinstance(exc, exceptions.Throttled) and throttle_wait is not None:
            wait = max(1, math.ceil(throttle_wait))
            headers["Retry-After"] = str(wait)
            extra["retry_after"] = wait
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        detail: Any = exc.detail
        if isinstance(exc, exceptions.AuthenticationFailed) and not isinstance(detail, str):
            detail = _("Token is invalid or expired.")
        return error_response(_drf_code(exc), detail, exc.status_code, headers=headers, **extra)

    if is_outage(exc):
        logger.warning("Backing service unavailable in %s: %s", context.get("view"), exc)
        outage = ServiceUnavailableError()
        return Response(outage.body(), status=outage.status_code, headers=outage.headers())
    logger.error("Unhandled error in %s", context.get("view"), exc_info=exc)
    return error_response("server_error", SERVER_ERROR_DETAIL, 500)


class InvalidCodeError(ApplicationError):
    """The code does not match; ``attempts_left`` says how many tries remain."""

    code = "invalid_code"
    default_detail = _("The code is wrong.")


class NoActiveCodeError(ApplicationError):
    """No code can be checked: never requested, expired, used or replaced."""

    code = "no_active_code"
    default_detail = _("There is no valid code for this phone. Request a new one.")


class TooManyAttemptsError(RateLimitedError):
    """The code is burned, or the phone is locked after repeated failures."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_attempts"
    default_detail = _("Too many wrong codes. Request a new code.")


class ResendTooSoonError(RateLimitedError):
    """A code was sent to this phone moments ago."""

    code = "resend_too_soon"
    default_detail = _("A code was sent recently. Wait before asking for another one.")


class AccountDisabledError(ApplicationError):
    """The code was right, but staff disabled the phone's account: no login is opened."""

    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"
    default_detail = _("This account is disabled.")


class SmsUnavailableError(ApplicationError):
    """The SMS provider failed; no provider detail leaks."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "sms_unavailable"
    default_detail = _("The SMS could not be sent. Try again later.")


class ServiceUnavailableError(ApplicationError):
    """The database or cache a request needs is unreachable, or the server is at capacity.

    Always fast and always with ``Retry-After``: a client backs off instead of hanging.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    default_detail = _("The service is temporarily unavailable. Try again shortly.")

    def __init__(self, retry_after: float = 5, detail: Any = None) -> None:
        super().__init__(detail, retry_after=max(1, math.ceil(retry_after)))


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says a backing service (database, cache) is unreachable.

    Not every database error is an outage: an ``IntegrityError`` is a bug or a race the
    caller handles, so only connection-level failures count.
    """
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError):
        return True
    try:
        import psycopg  # the send's event-loop path uses psycopg directly (phone_auth.aio)
    except ImportError:
        pass
    else:
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            return True
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # a host project without redis
        return False
    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


class PhoneRegionNotAllowedError(ApplicationError):
    """The phone belongs to a region outside the allow-list."""

    code = "phone_region_not_allowed"
    default_detail = _("Phone numbers of this country are not accepted.")


class TokenNotValidError(ApplicationError):
    """A refresh token that is malformed, expired, consumed or revoked."""

    status_code = status.HTTP_401_UNAUTHORIZED
    code = "token_not_valid"
    default_detail = _("Token is invalid or expired.")
