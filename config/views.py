"""Views of the standalone service: the catch-all API 404 and Django's error handlers.

Every answer is the contract's JSON error body (``phone_auth.errors.json_error``), so a
path no route matches, a request Django itself refuses and an unexpected failure look
like any other API error. ``config/urls.py`` names them as ``handler400`` and the like;
``config.middleware.JsonErrorBodyMiddleware`` uses them for Django's own error pages.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from phone_auth.errors import SERVER_ERROR_DETAIL, json_error


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


def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler400``."""
    return json_error("bad_request", _("Bad request."), 400)


def json_permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    """``handler403``."""
    return json_error("permission_denied", _("Permission denied."), 403)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """``handler404`` outside DRF views: the same JSON body."""
    return json_error("not_found", _("Not found."), 404)


def json_method_not_allowed(request: HttpRequest, allow: str = "") -> JsonResponse:
    """A wrong method on a plain Django view: the same JSON body as DRF's 405."""
    response = json_error("method_not_allowed", _("Method not allowed."), 405)
    if allow:
        response["Allow"] = allow
    return response


def json_server_error(request: HttpRequest) -> JsonResponse:
    """A JSON ``500``: never a stack trace (``config.errors.server_error`` is ``handler500``)."""
    return json_error("server_error", SERVER_ERROR_DETAIL, 500)
