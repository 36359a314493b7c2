"""Host projects that install the apps as the README says, each run in its own process.

Each host (``email_user``: its own user model signing in by email, and the web UI's
pages; ``stock_user``: Django's ``User``; ``phone_only``: phone sign-in without the
referral program) runs the API flow of ``scenarios/host_api_flow.py`` and the pages of
``scenarios/host_pages.py`` (skipped where the host has none) through HTTP against its own
PostgreSQL database, named after the suite's own (``<name>_<host>``), so parallel runs
never share one. ``badge_user``, whose users need a unique badge number, runs the
refusals instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

HOSTS_DIR = Path(__file__).resolve().parent
HOSTS = {
    "email_user": "emailhost",
    "stock_user": "stockhost",
    "phone_only": "phonehost",
    "badge_user": "badgehost",
}
# The whole API flow and the pages, except for the host whose user model no phone sign-up
# can fill.
FLOW = ("host_api_flow.py", "host_pages.py")
SCENARIOS = {"badge_user": ("host_refusals.py",)}
TIMEOUT = 300


def host_environment(host: str) -> dict[str, str]:
    """The environment a host's process runs in: its settings and its own database."""
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "COV_")) and key != "PYTHONPATH"
    }
    env.update(
        PYTHONPATH=str(HOSTS_DIR / host),
        DJANGO_SETTINGS_MODULE=f"{HOSTS[host]}.settings",
        HOST_DATABASE_NAME=f"{url.path.lstrip('/')}_{host}",
        HOST_DATABASE_HOST=url.hostname or "127.0.0.1",
        HOST_DATABASE_PORT=str(url.port or 5432),
        HOST_DATABASE_USER=unquote(url.username or "postgres"),
        HOST_DATABASE_PASSWORD=unquote(url.password or ""),
    )
    return env


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_host_project_runs_the_whole_api_flow(host: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(HOSTS_DIR / "scenarios.ini"),
            "--rootdir",
            str(HOSTS_DIR / "scenarios"),
            "--confcutdir",
            str(HOSTS_DIR / "scenarios"),
            "-q",
            *(str(HOSTS_DIR / "scenarios" / name) for name in SCENARIOS.get(host, FLOW)),
        ],
        cwd=HOSTS_DIR / host,
        env=host_environment(host),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert " passed" in result.stdout, result.stdout
