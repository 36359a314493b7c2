"""The service's middleware chain, shaped for ASGI, and the no-stack-trace guard.

Under ASGI Django runs every hook of a classic middleware through ``sync_to_async``: a
hand-off to a per-request thread, twice per middleware. With Django's stock chain that is
most of the cost of a small API answer. So:

- middleware whose hooks only look at headers and cookies (security headers, locale,
  common, clickjacking) run their hooks inline on the event loop;
- middleware that may touch the database (sessions, messages) or serve only browsers
  (CSRF, session login) run for the web UI and the admin, and are skipped for the token
  API, which has no session, no cookies and no CSRF.

``HardeningMiddleware`` adds ``Content-Security-Policy`` to every HTML page (the API docs get
the little more their bundles need), ``Permissions-Policy`` to every answer, and
``Cache-Control: no-store`` to every answer that may carry tokens or personal data.

``NoTracebackMiddleware``: an unhandled exception in any view becomes the JSON 500 body
(an unreachable database or cache: the ``503`` of ``config/errors.py``),
even with ``DEBUG=true`` (where Django would otherwise render its technical page), and
``JsonErrorBodyMiddleware`` gives the error answers Django builds outside views (an
unknown URL, a wrong method on a plain view, a bad request) the same JSON body.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware as _Authentication
from django.contrib.messages.middleware import MessageMiddleware as _Messages
from django.contrib.sessions.middleware import SessionMiddleware as _Sessions
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptions
from django.middleware.common import CommonMiddleware as _Common
from django.middleware.csrf import CsrfViewMiddleware as _Csrf
from django.middleware.locale import LocaleMiddleware as _Locale
from django.middleware.security import SecurityMiddleware as _Security
from django.utils.deprecation import MiddlewareMixin

from config.views import (
    json_bad_request,
    json_method_not_allowed,
    json_not_found,
    json_server_error,
)

logger = logging.getLogger("django.request")

API_PREFIXES = ("/api/", "/healthz", "/livez", "/.well-known/")

# Pages of the web UI and the admin: their own scripts, styles and images only; no inline
# code, no frames, forms post only here.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI and ReDoc: still only this origin's scripts, but their bundles set inline
# styles (ReDoc writes its styles into <style> elements) and ReDoc searches in a blob: worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = ("/api/docs/", "/api/redoc/")
# Public documents that may be cached; every other answer may carry tokens or personal data.
CACHEABLE_PATHS = (*DOCS_PATHS, "/api/schema/", "/.well-known/jwks.json")
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), browsing-topics=()"
)


def is_api_path(path: str) -> bool:
    """Token-API routes: no session, no cookies, no CSRF."""
    return path.startswith(API_PREFIXES)


class _InlineHooks(MiddlewareMixin):
    """Runs ``process_request``/``process_response`` on the event loop: they do no I/O."""

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: Any = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)  # type: ignore[misc]
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class _WebOnly(MiddlewareMixin):
    """Skipped for the token API; runs as Django defines it for pages and the admin."""

    def __call__(self, request: HttpRequest) -> Any:
        if is_api_path(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class HardeningMiddleware(_InlineHooks):
    """Content-Security-Policy, Permissions-Policy and no-store, inline."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        """Add the headers a view has not set itself."""
        path = request.path_info
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy", DOCS_CSP if path.startswith(DOCS_PATHS) else PAGE_CSP
            )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if not path.startswith(CACHEABLE_PATHS) and "no-store" not in response.get(
            "Cache-Control", ""
        ):
            response["Cache-Control"] = "no-store"
        return response


class SecurityMiddleware(_InlineHooks, _Security):
    """Security headers, inline."""


class LocaleMiddleware(_InlineHooks, _Locale):
    """Language from ``Accept-Language`` (and the UI's cookie), inline."""


class CommonMiddleware(_InlineHooks, _Common):
    """Slash redirects and ``Content-Length``, inline."""


class XFrameOptionsMiddleware(_InlineHooks, _XFrameOptions):
    """``X-Frame-Options``, inline."""


class SessionMiddleware(_WebOnly, _Sessions):
    """Sessions for the web UI and the admin."""


class CsrfViewMiddleware(_WebOnly, _Csrf):
    """CSRF for forms of the web UI and the admin.

    Its view hook is a coroutine so Django awaits it on the event loop instead of handing
    it to a thread on every request; the check itself reads only cookies, headers and the
    already-received form body. The token API skips it.
    """

    async def process_view(  # type: ignore[override]
        self, request: HttpRequest, callback: Any, callback_args: Any, callback_kwargs: Any
    ) -> HttpResponseBase | None:
        """Run Django's CSRF check for pages; nothing for the token API."""
        if is_api_path(request.path_info):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(_WebOnly, _Authentication):
    """Session login for the web UI and the admin."""


class MessageMiddleware(_WebOnly, _Messages):
    """Flash messages of the web UI and the admin."""


class NoTracebackMiddleware(MiddlewareMixin):
    """Answers unhandled exceptions with ``{"code": "server_error", ...}`` and logs them."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Leave 4xx exceptions to Django's handlers; an outage is a 503, the rest a 500."""
        from config.errors import outage_response

        if isinstance(exception, Http404 | PermissionDenied | BadRequest | SuspiciousOperation):
            return None
        unavailable = outage_response(request, exception)
        if unavailable is not None:
            return unavailable
        logger.error("Unhandled error on %s", request.path, exc_info=exception)
        return json_server_error(request)


class JsonErrorBodyMiddleware(_InlineHooks):
    """Error answers that are not JSON yet (Django's own pages) get the contract's body."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        """Replace a non-JSON 400/404/405/500 body, keeping ``Allow`` on a 405."""
        if response.status_code not in (400, 404, 405, 500) or response.get(
            "Content-Type", ""
        ).startswith("application/json"):
            return response
        if response.status_code == 405:
            return json_method_not_allowed(request, allow=response.get("Allow", ""))
        builders = {400: json_bad_request, 404: json_not_found}
        builder = builders.get(response.status_code)
        return builder(request) if builder else json_server_error(request)
