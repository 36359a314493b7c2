"""Start the service under uvicorn, sized and bounded for the machine: ``python -m config.serve``.

- Workers: ``WEB_CONCURRENCY``, or one per core when the cache is shared (``REDIS_URL``),
  else one (the local-memory cache keeps rate-limit counters per process, so more workers
  would each count on their own).
- Bounds: each worker works on at most ``MAX_CONCURRENT_REQUESTS`` requests at once (more
  get a fast JSON ``503``, see ``config/asgi.py``) and holds at most ``WEB_MAX_CONNECTIONS``
  connections (uvicorn's own limit, a backstop well above it); idle keep-alive connections
  close after ``KEEP_ALIVE_TIMEOUT`` seconds; on SIGTERM requests in flight get
  ``GRACEFUL_TIMEOUT`` seconds, below the 10 s a container runtime waits before killing.
- Once the service answers it prints where the web UI, the API docs and the admin are and
  whether demo mode is on.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import uvicorn

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_CONNECTIONS = 2048
DEFAULT_GRACEFUL_TIMEOUT = 8
DEFAULT_KEEP_ALIVE_TIMEOUT = 15
READY_WAIT = 120.0


@dataclass(frozen=True)
class Plan:
    """How the server runs, and why that many workers."""

    host: str
    port: int
    workers: int
    workers_reason: str
    max_connections: int
    graceful_timeout: int
    keep_alive_timeout: int


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{name} must be at least 1, not {value}")
    return value


def plan(env: dict[str, str], host: str | None = None, port: int | None = None) -> Plan:
    """The server's settings from the environment (and the command line's host and port)."""
    if env.get("WEB_CONCURRENCY", "").strip():
        workers = _int(env, "WEB_CONCURRENCY", 1)
        reason = "WEB_CONCURRENCY"
        if workers > 1 and not env.get("REDIS_URL", "").strip():
            reason += "; without REDIS_URL each worker keeps rate-limit counters of its own"
    elif env.get("REDIS_URL", "").strip():
        workers = cores()
        reason = "one per core: the cache is shared (REDIS_URL)"
    else:
        workers = 1
        reason = "no REDIS_URL: the local-memory cache counts per process"
    return Plan(
        host=host or env.get("HOST", "").strip() or DEFAULT_HOST,
        port=port or _int(env, "PORT", DEFAULT_PORT),
        workers=workers,
        workers_reason=reason,
        max_connections=_int(env, "WEB_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS),
        graceful_timeout=_int(env, "GRACEFUL_TIMEOUT", DEFAULT_GRACEFUL_TIMEOUT),
        keep_alive_timeout=_int(env, "KEEP_ALIVE_TIMEOUT", DEFAULT_KEEP_ALIVE_TIMEOUT),
    )


def demo_mode(expose: object) -> str:
    """``AUTH_EXPOSE_CODES`` in words: off, loopback clients only, or every client."""
    if isinstance(expose, str):
        value = expose.strip().lower()
        if value == "loopback":
            return "on for loopback clients only (debug_code in their send-code answers)"
        expose = value not in ("", "0", "false", "off", "no")
    if expose:
        return "on for every client: each send-code answer carries its code (a public demo)"
    return "off"


def local_address(host: str) -> str:
    """Where this machine reaches a server listening on ``host``."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - reading, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def banner(current: Plan, expose: object, max_requests: int) -> str:
    """The lines printed once the service answers."""
    base = f"http://{local_address(current.host)}:{current.port}"
    return "\n".join(
        [
            f"Service ready on {current.host}:{current.port}",
            f"  Web UI:    {base}/",
            f"  API docs:  {base}/api/docs/ (ReDoc: {base}/api/redoc/)",
            f"  Admin:     {base}/admin/",
            f"  Demo mode: {demo_mode(expose)}",
            f"  Limits:    {max_requests} requests in flight and {current.max_connections} "
            "connections per worker",
        ]
    )


def _announce_when_ready(current: Plan, text: str) -> None:
    url = f"http://{local_address(current.host)}:{current.port}/livez"
    deadline = time.monotonic() + READY_WAIT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    print(text, flush=True)
                    return
        except OSError:
            pass
        time.sleep(0.2)


def server_options(current: Plan) -> dict[str, Any]:
    """``uvicorn.run``'s arguments for ``current``: the ASGI app, its limits and timeouts."""
    return {
        "app": "config.asgi:application",
        "host": current.host,
        "port": current.port,
        "workers": current.workers,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "off",
        "proxy_headers": False,
        "server_header": False,
        "access_log": False,
        "limit_concurrency": current.max_connections,
        "timeout_keep_alive": current.keep_alive_timeout,
        "timeout_graceful_shutdown": current.graceful_timeout,
    }


def main(argv: list[str] | None = None) -> int:
    """Check the settings, then serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help=f"address to listen on (HOST, default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"port (PORT, default {DEFAULT_PORT})")
    args = parser.parse_args(argv)
    current = plan(dict(os.environ), args.host, args.port)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        max_requests = int(settings.MAX_CONCURRENT_REQUESTS)
        from phone_auth.conf import app_settings

        expose = app_settings.EXPOSE_CODES
    except ImproperlyConfigured as exc:
        print(f"The service cannot start: {exc}", file=sys.stderr)
        return 1

    print(
        f"Starting {current.workers} worker{'s' if current.workers > 1 else ''} "
        f"({current.workers_reason}) on {current.host}:{current.port}",
        flush=True,
    )
    threading.Thread(
        target=_announce_when_ready,
        args=(current, banner(current, expose, max_requests)),
        name="announce",
        daemon=True,
    ).start()
    uvicorn.run(**server_options(current))
    return 0


if __name__ == "__main__":
    sys.exit(main())
