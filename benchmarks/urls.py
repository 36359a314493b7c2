"""The service's URLs plus ``/api/bench/bare``: a plain async view, the floor of every request,
and ``/api/bench/delay``: one that only awaits the console sender's simulated latency.

It lives under ``/api/`` so it goes through the same middleware chain and server as the
real API routes: the ratio of a route to it is what the route's own work costs.
"""

import asyncio
import random

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from config import urls as service_urls
from phone_auth.conf import app_settings


async def bare(request: HttpRequest) -> JsonResponse:
    """The smallest JSON answer Django can give."""
    return JsonResponse({"ok": True})


async def delay(request: HttpRequest) -> JsonResponse:
    """Await the same latency a send waits on the console sender, and nothing else."""
    low, high = app_settings.SMS_DELAY
    await asyncio.sleep(random.uniform(low, high))
    return JsonResponse({"ok": True})


urlpatterns = [
    path("api/bench/bare", bare),
    path("api/bench/delay", delay),
    path("", include(service_urls)),
]

handler400 = service_urls.handler400
handler403 = service_urls.handler403
handler404 = service_urls.handler404
handler500 = service_urls.handler500
