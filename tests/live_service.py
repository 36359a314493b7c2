"""Run the standalone service the way a user does, for tests that speak to it over HTTP.

The black-box suite (``tests/service/``), the Postman run and the fault tests start it as a
separate process: its own environment (nothing inherited from the test settings),
``manage.py`` for set-up, and the Makefile's run command (``python -m config.serve``) on a
free port, up once ``/healthz`` answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_env(database: Path, **variables: str) -> dict[str, str]:
    """The service's environment on the SQLite ``database``, plus ``variables``."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(DATABASE_URL=f"sqlite:///{database}", PYTHONUNBUFFERED="1", **variables)
    return env


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` with the service's environment; the caller judges the outcome."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` with the service's environment; fails the caller on a non-zero exit."""
    done = run_manage(env, *args)
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def server_command(port: int) -> list[str]:
    """The run command of the Makefile's ``run`` target (``config/serve.py``), on ``port``."""
    return [sys.executable, "-m", "config.serve", "--host", "127.0.0.1", "--port", str(port)]


@dataclass
class Server:
    """A running service: its address, its process and the file its output goes to."""

    base_url: str
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)


def _answers(base_url: str, statuses: tuple[int, ...]) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=5).status_code in statuses
    except httpx.HTTPError:
        return False


def start_server(
    env: dict[str, str], log: Path, *, ready: tuple[int, ...] = (200,), timeout: float = 60.0
) -> Server:
    """Serve through uvicorn; up when ``/healthz`` answers with one of ``ready``."""
    for _attempt in range(3):  # another process may take the free port first
        port = free_port()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                server_command(port),
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(base_url, ready):
                return Server(base_url=base_url, log=log, process=process)
            time.sleep(0.1)
        stop_server(process)
    pytest.fail(f"the service did not become healthy:\n{log.read_text(errors='replace')}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate the service, killing it if it does not stop in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
