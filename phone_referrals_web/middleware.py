"""Error pages for people: a browser that opens a missing or failing page of the site gets
the UI's own HTML page instead of the JSON error body.

It sits outermost in the chain, so it sees every 404/500 answer after the service has given
it the JSON body (unknown URLs, ``Http404`` in a view, unhandled errors). It swaps the body
only for a page navigation: the path is outside the token API and the client asks for
HTML. API clients, and anything that does not ask for ``text/html``, keep the JSON body.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

PAGES = {404: "phone_referrals_web/404.html", 500: "phone_referrals_web/500.html"}
API_PREFIX = "/api/"


def wants_page(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A browser navigation outside the API that got one of the JSON error bodies."""
    return (
        response.status_code in PAGES
        and not request.path_info.startswith(API_PREFIX)
        and response.get("Content-Type", "").startswith("application/json")
        and "text/html" in request.headers.get("Accept", "")
    )


def error_page(request: HttpRequest, status: int) -> HttpResponse | None:
    """The UI's page for ``status``, or ``None`` when even that cannot be rendered.

    The page reads neither the session nor the user, so it renders on the event loop and
    while the database is down.
    """
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
    try:
        with translation.override(language):
            html = render_to_string(PAGES[status], {"status": status}, request=request)
    except Exception:  # the JSON body is still a clean answer
        logger.exception("The %s page could not be rendered", status)
        return None
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


class ErrorPageMiddleware:
    """Replaces the JSON 404/500 body with the HTML page for browser navigations."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return self._page_for(request, self.get_response(request))

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        awaitable: Awaitable[HttpResponseBase] = self.get_response(request)
        return self._page_for(request, await awaitable)

    @staticmethod
    def _page_for(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not wants_page(request, response):
            return response
        page = error_page(request, response.status_code)
        if page is None:
            return response
        for header in ("Vary", "Content-Language"):
            if header in response:
                page[header] = response[header]
        return page
