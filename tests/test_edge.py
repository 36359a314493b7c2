"""The ASGI edge (``/livez``, the concurrency limit) and the 503 of an outage, in process."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from config.asgi import ServiceEdge

pytestmark = pytest.mark.django_db


def database_away(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection refused")


urlpatterns = [
    path("api/v1/away/", database_away),
    path("away/", database_away),
    path("", include("config.urls")),
]


class Held:
    """An ASGI app that answers only when released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


async def call(app: ServiceEdge, path: str, language: str = "en") -> dict[str, Any]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [(b"accept-language", language.encode())],
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, None, send)
    start, body = sent
    return {
        "status": start["status"],
        "headers": {k.decode(): v.decode() for k, v in start["headers"]},
        "body": body["body"],
    }


def test_past_the_limit_requests_get_a_json_503_at_once_and_livez_still_answers() -> None:
    async def scenario() -> tuple[dict[str, Any], ...]:
        held = Held()
        edge = ServiceEdge(held, limit=2)
        first = asyncio.create_task(call(edge, "/api/v1/profile/"))
        second = asyncio.create_task(call(edge, "/api/v1/profile/"))
        await asyncio.sleep(0.01)
        assert edge.in_flight == 2
        refused = await asyncio.wait_for(call(edge, "/api/v1/profile/", "ru"), 1)
        page = await asyncio.wait_for(call(edge, "/profile/"), 1)
        live = await asyncio.wait_for(call(edge, "/livez"), 1)
        held.release.set()
        done = await first, await second
        assert edge.in_flight == 0
        return refused, page, live, *done

    refused, page, live, first, second = asyncio.run(scenario())
    assert refused["status"] == 503
    assert refused["headers"]["retry-after"] == "1"
    assert refused["headers"]["content-type"] == "application/json"
    body = json.loads(refused["body"])
    assert body["code"] == "service_unavailable"
    assert body["retry_after"] == 1
    assert body["detail"] == "Сервис временно недоступен. Повторите попытку чуть позже."
    assert page["status"] == 503
    assert page["headers"]["content-type"].startswith("text/html")
    assert "default-src 'none'" in page["headers"]["content-security-policy"]
    assert live == {
        "status": 200,
        "headers": live["headers"],
        "body": b'{"status": "ok"}',
    }
    assert first["status"] == second["status"] == 200


@pytest.mark.urls("tests.test_edge")
def test_an_unreachable_database_is_a_503_json_for_the_api_and_a_page_for_people() -> None:
    client = Client(raise_request_exception=False)
    api = client.get("/api/v1/away/")
    assert api.status_code == 503
    assert api["Retry-After"] == "5"
    assert api.json()["code"] == "service_unavailable"
    page = client.get("/away/", headers={"accept-language": "ru"})
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html")
    assert page["Retry-After"] == "5"
    assert '<html lang="ru">' in page.content.decode()
    assert "Сервис временно недоступен" in page.content.decode()
    assert "Content-Security-Policy" in page


class Recorded:
    """An ASGI app that notes the loop turn each request started in, then answers."""

    def __init__(self) -> None:
        self.turn = 0
        self.started: list[tuple[int, str]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.started.append((self.turn, scope["path"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


def test_a_burst_starts_a_few_requests_per_loop_turn_in_order_and_livez_does_not_wait() -> None:
    async def scenario() -> tuple[Recorded, list[dict[str, Any]], dict[str, Any]]:
        app = Recorded()
        edge = ServiceEdge(app, limit=100, starts_per_turn=3)
        loop = asyncio.get_running_loop()

        def count_turns() -> None:
            app.turn += 1
            loop.call_soon(count_turns)

        loop.call_soon(count_turns)
        burst = [asyncio.create_task(call(edge, f"/api/v1/r{n}/")) for n in range(12)]
        await asyncio.sleep(0)
        asked = app.turn
        live = await call(edge, "/livez")
        assert app.turn == asked, "/livez waited behind the burst"
        assert len(app.started) < 12, "the whole burst started in one turn"
        done = await asyncio.gather(*burst)
        assert edge.in_flight == 0
        return app, list(done), live

    app, done, live = asyncio.run(scenario())
    assert live["status"] == 200
    assert all(answer["status"] == 200 for answer in done)
    assert [path for _turn, path in app.started] == [f"/api/v1/r{n}/" for n in range(12)]
    per_turn: dict[int, int] = {}
    for turn, _path in app.started:
        per_turn[turn] = per_turn.get(turn, 0) + 1
    assert max(per_turn.values()) <= 3, per_turn
    assert len(per_turn) >= 4, per_turn


def test_a_request_cancelled_while_it_waits_its_turn_leaves_the_queue() -> None:
    async def scenario() -> ServiceEdge:
        edge = ServiceEdge(Recorded(), limit=100, starts_per_turn=1)
        first = asyncio.create_task(call(edge, "/api/v1/a/"))
        waiting = asyncio.create_task(call(edge, "/api/v1/b/"))
        await asyncio.sleep(0)
        waiting.cancel()
        await first
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert edge.in_flight == 0
        assert not edge._waiting
        return edge

    asyncio.run(scenario())


def test_the_objects_loaded_at_start_are_out_of_the_collectors_way() -> None:
    import gc

    import config.asgi  # noqa: F401 - loading it freezes what is loaded by then

    assert gc.get_freeze_count() > 10_000
