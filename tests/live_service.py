"""Run the standalone service the way a user does, for tests that speak to it over HTTP.

The black-box suite (``tests/service/``), the Postman run and the fault tests start it as a
separate process: its own environment (nothing inherited from the test settings),
``manage.py`` for set-up, and the Makefile's run command (``python -m config.serve``) on a
free port, up once ``/healthz`` answers.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


#: Where the kernel picks the local ports of outgoing connections (Linux's default).
EPHEMERAL = (32768, 60999)
#: Ports each pytest-xdist worker picks its servers' ports from: its own slice, so two
#: workers never pick the same one.
PORTS_PER_WORKER = 1000


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return EPHEMERAL


def port_slice(worker: str | None = None) -> range:
    """The ports this test process may give its servers: never one a client socket can get.

    A port the kernel handed out (``bind(0)``) lies in the range it also gives the local end
    of every outgoing connection, so under the load tests' thousands of connections a
    client could take it before the server started on it (or, for a server restarted on
    its port, while it was down). These lie outside that range, a slice per xdist worker.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "") if worker is None else worker
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    low, high = ephemeral_ports()
    first = 10_000 if low >= 10_000 + PORTS_PER_WORKER * (index + 1) else high + 1
    start = first + PORTS_PER_WORKER * index
    return range(start, min(start + PORTS_PER_WORKER, 65_536))


def free_port() -> int:
    """A TCP port nothing listens on right now, from this process's ``port_slice``."""
    candidates = port_slice()
    ports = list(candidates)
    random.shuffle(ports)  # test processes one after another need not reuse the same ports
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {candidates}")


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
