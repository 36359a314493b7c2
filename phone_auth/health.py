"""Liveness and readiness: ``/livez`` touches nothing, ``/healthz`` probes with a deadline.

Mounted by ``phone_auth.health_urls``, in the standalone service and in a host project.

``/livez`` says the process serves requests (container health checks, restarts); the ASGI
entry point answers it before the concurrency limit and before Django, so it stays fast
under overload. ``/healthz`` is the readiness check of the contract: it probes the database
and the cache at the same time, each on a small thread pool of its own and with a deadline,
so it answers within ``PROBE_TIMEOUT`` even when a dependency hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

PROBE_TIMEOUT = 1.5
LIVEZ_BODY = b'{"status": "ok"}'

# Probes never wait behind request work; a probe stuck on a dead peer holds one of these.
_probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "down"
    finally:
        connection.close()  # this probe thread's connection goes back to the pool
    return "ok"


def _cache() -> str:
    try:
        cache.set("healthz", "ok", timeout=10)
        return "ok" if cache.get("healthz") == "ok" else "down"
    except Exception:
        return "down"


async def _probe(check: Callable[[], str]) -> str:
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(loop.run_in_executor(_probes, check), PROBE_TIMEOUT)
    except TimeoutError:
        return "down"


@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    """``200`` when the database and the cache answer, else ``503`` naming what is down."""
    database, cache_state = await asyncio.gather(_probe(_database), _probe(_cache))
    body = {"status": "ok", "database": database, "cache": cache_state}
    if "down" in (database, cache_state):
        body["status"] = "down"
        response = JsonResponse(body, status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse(body)


@require_safe
async def livez(request: HttpRequest) -> JsonResponse:
    """``200`` while the process serves requests (the ASGI entry point answers it first)."""
    return JsonResponse({"status": "ok"})
