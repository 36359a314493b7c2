"""Fast, honest answers when the service cannot do the work: outages and overload.

A request that needs the database or the cache while it is unreachable, or one that comes
while the worker is at its concurrency limit, is answered at once with
``503 service_unavailable`` and ``Retry-After``: the contract's JSON body for the API, a
short page in the person's language for the web UI and the admin. Never a ``500``, never a
stack trace, never a hang.
"""

from __future__ import annotations

import json
import logging
import sys
from html import escape

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

from config.middleware import is_api_path
from config.views import json_server_error
from phone_auth.errors import ServiceUnavailableError, is_outage

logger = logging.getLogger("config.errors")

OUTAGE_RETRY_AFTER = 5
OVERLOAD_RETRY_AFTER = 1


def unavailable_content(path: str, retry_after: int) -> tuple[str, bytes]:
    """The content type and body of a ``503`` for ``path`` in the active language."""
    error = ServiceUnavailableError(retry_after)
    if is_api_path(path):
        return "application/json", json.dumps(error.body()).encode()
    detail = escape(str(error.detail))
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(translation.get_language() or "en")}">\n'
        '<head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1">'
        f"<title>{detail}</title></head>\n"
        f"<body><main><h1>{detail}</h1></main></body>\n</html>\n"
    )
    return "text/html; charset=utf-8", page.encode()


def unavailable_response(
    request: HttpRequest, retry_after: int = OUTAGE_RETRY_AFTER
) -> HttpResponse:
    """``503`` with ``Retry-After`` for ``request``: JSON for the API, a page otherwise."""
    content_type, body = unavailable_content(request.path_info, retry_after)
    response = HttpResponse(body, status=503, content_type=content_type)
    response["Retry-After"] = str(retry_after)
    return response


def outage_response(request: HttpRequest, exception: BaseException) -> HttpResponse | None:
    """The ``503`` for an unreachable database or cache (one log line), else ``None``."""
    if not is_outage(exception):
        return None
    logger.warning(
        "Backing service unavailable on %s: %s: %s",
        request.path,
        type(exception).__name__,
        str(exception).splitlines()[0] if str(exception) else "",
    )
    return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse | JsonResponse:
    """``handler500``: an outage anywhere in the chain is a ``503``; anything else a JSON 500.

    Django calls it while handling the exception (in middleware as much as in views), so
    the exception is the one being handled.
    """
    exception = sys.exc_info()[1]
    if exception is not None and is_outage(exception):
        return unavailable_response(request)
    return json_server_error(request)
