"""Production mode refuses to start on development values, and with no proxy trusted (the
default) the client IP is the socket peer: ``X-Forwarded-For`` cannot dodge the budget.
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest

from tests.live_service import ROOT, free_port, server_command
from tests.service.conftest import base_env
from tests.service.support import Api, Service, new_phone
from tests.support import assert_error

STRONG_KEY = secrets.token_urlsafe(48)


@pytest.mark.parametrize(
    "changes",
    [
        {"ALLOWED_HOSTS": "127.0.0.1"},
        {"ALLOWED_HOSTS": "127.0.0.1", "SECRET_KEY": "short"},
        {"SECRET_KEY": STRONG_KEY},
    ],
    ids=["development-key", "short-key", "development-hosts"],
)
def test_production_refuses_to_start_on_development_values(
    migrated_database: Path, tmp_path: Path, changes: dict[str, str]
) -> None:
    database = tmp_path / "db.sqlite3"
    database.write_bytes(migrated_database.read_bytes())
    env = base_env(database) | {"DEBUG": "false"} | changes
    env.pop("AUTH_EXPOSE_CODES")
    server = subprocess.Popen(
        server_command(free_port()),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        output, _ = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail(f"the service started in production mode with {sorted(changes)} only")
    assert server.returncode != 0, output.decode(errors="replace")


@pytest.mark.usefixtures("same_clock_hour")
def test_without_trusted_proxies_forwarded_for_is_ignored(direct_service: Service) -> None:
    api = Api(direct_service)
    try:
        for index in range(30):
            answer = api.request(
                "POST",
                "/api/v1/auth/send-code/",
                json={"phone": new_phone()},
                headers={"X-Forwarded-For": f"198.51.100.{index + 1}"},
            )
            assert answer.status_code == 200, (index, answer.text)
        answer = api.request(
            "POST",
            "/api/v1/auth/send-code/",
            json={"phone": new_phone()},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert_error(answer, 429, "rate_limited")
    finally:
        api.close()
