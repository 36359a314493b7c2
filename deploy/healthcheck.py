"""Container health probe: ``GET /livez`` on the local server, exit 0 only on ``200``.

Liveness only: ``/livez`` touches neither the database nor the cache, so a service that is
busy or waiting for PostgreSQL is not restarted for it (``/healthz`` is the readiness check).

The ``Host`` header is the first entry of ``ALLOWED_HOSTS`` (Django refuses other hosts);
standard library only, so the probe costs no Django start-up.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    """A host name Django accepts: the first allowed one, wildcards reduced to a plain name."""
    first = allowed_hosts.split(",")[0].strip().lstrip("*.")
    return first or "localhost"


def main() -> int:
    """0 when the service process answers."""
    url = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8000/livez")
    request = urllib.request.Request(  # noqa: S310 - a fixed local http URL
        url, headers={"Host": probe_host(os.environ.get("ALLOWED_HOSTS", ""))}
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
