"""Probe ``/livez`` from a process of its own while a burst runs elsewhere.

``python -m benchmarks.probe PORT SECONDS`` prints ``ready`` once started, then sends one
``GET /livez`` on a new connection every 20 ms until its standard input closes (or for
``SECONDS`` at most) and prints one JSON line:
``[[started, seconds, status], ...]`` with ``started`` on the system's monotonic clock, which
every process shares, so the caller can keep the probes that fell inside its burst.
"""

from __future__ import annotations

import http.client
import json
import select
import sys
import time

INTERVAL = 0.02


def main() -> None:
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    probes: list[tuple[float, float, int]] = []
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        status = 0  # no answer
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/livez")
            answer = connection.getresponse()
            answer.read()
            connection.close()
            status = answer.status
        except OSError:
            pass
        probes.append((started, time.monotonic() - started, status))
        if select.select([sys.stdin], [], [], INTERVAL)[0]:  # closed: the caller is done
            break
    print(json.dumps(probes), flush=True)


if __name__ == "__main__":
    main()
