"""The launcher (``python -m config.serve``): worker count, limits, timeouts, start-up lines."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from config import serve
from tests.live_service import ROOT, free_port, manage, service_env, stop_server

# What `docker stop` (and compose's stop_grace_period) waits before it kills the server.
CONTAINER_STOP_TIMEOUT = 10


def test_one_worker_per_core_with_a_shared_cache() -> None:
    current = serve.plan({"REDIS_URL": "redis://cache:6379/0"})
    assert current.workers == serve.cores()
    assert "REDIS_URL" in current.workers_reason


def test_one_worker_with_the_local_memory_cache() -> None:
    current = serve.plan({})
    assert current.workers == 1
    assert "local-memory" in current.workers_reason


def test_web_concurrency_wins_and_host_and_port_are_read() -> None:
    current = serve.plan(
        {"WEB_CONCURRENCY": "3", "REDIS_URL": "redis://c:6379/0", "HOST": "0.0.0.0", "PORT": "9001"}  # noqa: S104
    )
    assert (current.workers, current.workers_reason) == (3, "WEB_CONCURRENCY")
    assert (current.host, current.port) == ("0.0.0.0", 9001)  # noqa: S104
    assert serve.plan({"PORT": "9001"}, host="::1", port=9002).port == 9002


def test_several_workers_on_the_local_memory_cache_are_warned_about() -> None:
    assert "counters of its own" in serve.plan({"WEB_CONCURRENCY": "2"}).workers_reason
    shared = serve.plan({"WEB_CONCURRENCY": "2", "REDIS_URL": "redis://cache:6379/0"})
    assert shared.workers_reason == "WEB_CONCURRENCY"


@pytest.mark.parametrize("value", ["zero", "0", "-2"])
def test_a_bad_number_stops_the_launcher_with_its_name(value: str) -> None:
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        serve.plan({"WEB_CONCURRENCY": value})


def test_uvicorn_runs_with_a_concurrency_limit_and_bounded_timeouts() -> None:
    options = serve.server_options(serve.plan({}))
    config = uvicorn.Config(**options)  # uvicorn accepts every option as given
    assert config.limit_concurrency is not None
    assert config.limit_concurrency > 0
    assert config.timeout_graceful_shutdown is not None
    assert 0 < config.timeout_graceful_shutdown < CONTAINER_STOP_TIMEOUT
    assert 0 < config.timeout_keep_alive <= 60
    assert config.proxy_headers is False  # the client IP is decided by TRUSTED_PROXY_NETWORKS


@pytest.mark.parametrize(
    ("expose", "words"),
    [
        (False, "off"),
        (True, "every client"),
        ("loopback", "loopback clients only"),
        ("false", "off"),
        ("true", "every client"),
    ],
)
def test_demo_mode_is_said_in_words(expose: object, words: str) -> None:
    assert words in serve.demo_mode(expose)


def test_it_says_how_many_workers_and_where_everything_is(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite3"
    env = service_env(database, DEBUG="true", AUTH_EXPOSE_CODES="false", WEB_CONCURRENCY="2")
    manage(env, "migrate", "--noinput")
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "config.serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "Admin:" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        assert "Starting 2 workers (WEB_CONCURRENCY" in text
        base = f"http://127.0.0.1:{port}"
        for line in (f"Web UI:    {base}/", f"{base}/api/docs/", f"Admin:     {base}/admin/"):
            assert line in text, text
        assert "Demo mode: off" in text
        assert httpx.get(f"{base}/livez").json() == {"status": "ok"}
    finally:
        stop_server(process)
    assert process.returncode == 0, log.read_text()
