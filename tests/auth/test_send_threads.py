"""Sends waiting on the SMS provider hold no thread each, as under the ASGI server.

Django's ASGI handler runs every request in its own thread-sensitive context; a
thread-sensitive call in it starts a thread that lives until the request ends. The sends
here run the same way, and the process's thread count is read while all of them wait: on
the sign-in's thread pool (a cache other than Redis) and on the event loop (PostgreSQL and
Redis, ``phone_auth.aio``).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import ThreadSensitiveContext
from django.test import override_settings

from phone_auth import aio, services
from phone_auth.models import SignInCode

SENDS = 60


LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.mark.django_db(transaction=True)
@override_settings(PHONE_AUTH_SMS_BACKEND="console", PHONE_AUTH_SMS_DELAY="1.5")
@pytest.mark.parametrize("path", ["threads", "event loop"])
def test_sends_waiting_on_the_provider_hold_no_thread_each(path, settings):
    if path == "threads":
        settings.CACHES = LOCAL_CACHE

    async def request(n: int) -> None:
        async with ThreadSensitiveContext():
            await services.code_send(phone=f"+7912{n:07d}", ip=f"10.0.{n // 200}.{n % 200}")

    async def burst() -> tuple[int, int]:
        async with ThreadSensitiveContext():
            assert (aio.loop_store() is None) == (path == "threads")
        before = threading.active_count()
        sends = [asyncio.ensure_future(request(n)) for n in range(SENDS)]
        await asyncio.sleep(0.9)  # every send has stored its code and waits on the provider
        waiting = threading.active_count()
        await asyncio.gather(*sends)
        await aio.close_loop_store()
        return before, waiting

    before, waiting = asyncio.run(burst())

    assert waiting - before < SENDS // 2, (before, waiting)  # not one per waiting send
    assert waiting - before <= services.SYNC_THREADS + 2, (before, waiting)
    assert SignInCode.objects.filter(status=SignInCode.Status.ACTIVE).count() == SENDS
