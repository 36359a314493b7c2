"""The container files: compose services and environment, the image's entry points, and
what the build context leaves out. Docker itself is not needed to check these."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.environment import DECLARED, variables
from tests.live_service import ROOT, run_manage

DEPLOY = ROOT / "deploy"
SUBSTITUTION = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def dockerignore_excludes(path: str) -> bool:
    """Whether the build context leaves out ``path`` (or a directory above it)."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/"):
                tail = pattern[3:]
                if any(fnmatch.fnmatchcase(p, tail) for p in prefix.split("/")[-1:]):
                    return True
    return False


def resolve(value: str, given: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` with ``given`` values."""

    def substitute(match: re.Match[str]) -> str:
        name, kind, arg = match.groups()
        if given.get(name):
            return given[name]
        if kind == "?":
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    return SUBSTITUTION.sub(substitute, value)


def test_compose_has_the_three_services_with_healthchecks():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "app"}
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name in ("db", "redis"):
        assert services[name]["healthcheck"]["test"]
        assert services["app"]["depends_on"][name] == {"condition": "service_healthy"}
    build = services["app"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


def test_app_environment_points_at_the_services_and_requires_the_secrets():
    environment = compose()["services"]["app"]["environment"]
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "SMS_BACKEND",
    ):
        assert name in environment
    assert environment["DEBUG"] == "false"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    with pytest.raises(KeyError, match="SECRET_KEY"):
        resolve(environment["SECRET_KEY"], {})
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        resolve(environment["DATABASE_URL"], {})
    given = {"POSTGRES_PASSWORD": "pw"}
    assert resolve(environment["DATABASE_URL"], given) == (
        "postgres://phone_referrals:pw@db:5432/phone_referrals"
    )
    assert resolve(environment["REDIS_URL"], given) == "redis://redis:6379/0"
    db = compose()["services"]["db"]["environment"]
    assert resolve(db["POSTGRES_PASSWORD"], given) == "pw"


def test_every_app_variable_is_read_by_the_settings_or_the_image():
    read = set(re.findall(r"env\.\w+\(\s*\"(\w+)\"", (ROOT / "config/settings.py").read_text()))
    read |= set(re.findall(r"\$\{(\w+)", (DEPLOY / "Dockerfile").read_text()))
    read |= set(re.findall(r"env(?:\.get\(|, )\"(\w+)\"", (ROOT / "config/serve.py").read_text()))
    # The apps' settings, each under its own name and its aliases (config/environment.py).
    read |= {name for setting in DECLARED for name in variables(setting)}
    assert set(compose()["services"]["app"]["environment"]) <= read


def test_settings_start_with_the_compose_environment():
    environment = compose()["services"]["app"]["environment"]
    given = {"SECRET_KEY": "k" * 50, "POSTGRES_PASSWORD": "pw"}
    env = {name: resolve(str(value), given) for name, value in environment.items()}
    result = run_manage(
        {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        "check",
        "--fail-level",
        "ERROR",
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_builds_from_the_lock_and_runs_as_a_user():
    instructions = dockerfile_instructions()
    # The base is a build argument whose default is the public image a user pulls.
    assert instructions[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    assert instructions[1] == ("FROM", "${BASE_IMAGE}")
    runs = [args for kind, args in instructions if kind == "RUN"]
    assert "pip install -r requirements/server.txt" in runs[0]
    assert "pip install --no-deps ." in runs[1]
    users = [args for kind, args in instructions if kind == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    for kind, args in instructions:
        if kind == "COPY":
            source = args.split()[0]
            assert (ROOT / source).exists(), source


def command_words() -> list[str]:
    (cmd,) = [args for kind, args in dockerfile_instructions() if kind == "CMD"]
    words = json.loads(cmd)
    assert words[:2] == ["sh", "-c"]
    return shlex.split(words[2].replace("&&", " && "))


def test_cmd_migrates_then_serves_through_the_launcher():
    words = command_words()
    split = words.index("&&")
    assert words[:split] == ["python", "manage.py", "migrate", "--noinput"]
    assert words[split + 1 :] == [
        "exec",
        "python",
        "-m",
        "config.serve",
        "--host",
        "0.0.0.0",  # noqa: S104 - the container listens on all interfaces
        "--port",
        "8000",
    ]
    assert (ROOT / "config/serve.py").is_file()
    assert (ROOT / "manage.py").is_file()


def test_the_image_probes_liveness_not_readiness():
    (check,) = [args for kind, args in dockerfile_instructions() if kind == "HEALTHCHECK"]
    assert "deploy/healthcheck.py" in check
    assert compose()["services"]["app"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "deploy/healthcheck.py",
    ]
    assert '"http://127.0.0.1:8000/livez"' in (DEPLOY / "healthcheck.py").read_text()


def test_healthcheck_script_is_in_the_image():
    (check,) = [args for kind, args in dockerfile_instructions() if kind == "HEALTHCHECK"]
    script = json.loads(check[check.index("CMD") + 3 :].strip())[-1]
    assert (ROOT / script).is_file()
    assert not dockerignore_excludes(script)


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "pyproject.toml",
        "README.md",
        "requirements/lock.txt",
        "requirements/server.txt",
        "config/asgi.py",
        "config/settings.py",
        "phone_auth/sms/twilio.py",
        "referrals/models.py",
        "phone_referrals_web/urls.py",
        "deploy/Dockerfile",
    ],
)
def test_build_context_keeps_what_the_service_needs(path):
    assert (ROOT / path).exists()
    assert not dockerignore_excludes(path)


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "deploy/.env",
        ".git/HEAD",
        ".venv/bin/python",
        "db.sqlite3",
        "phone_auth/__pycache__/x.pyc",
    ],
)
def test_build_context_leaves_out_secrets_and_local_state(path):
    assert dockerignore_excludes(path)


class HealthServer(BaseHTTPRequestHandler):
    status = 200
    hosts: list[str] = []

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers["Host"])
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Silence the per-request log line."""


@pytest.fixture
def health_server() -> Iterator[tuple[str, type[HealthServer]]]:
    handler = type("Handler", (HealthServer,), {"hosts": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz", handler
    server.shutdown()
    server.server_close()


def probe(url: str, allowed_hosts: str) -> int:
    return subprocess.run(
        [sys.executable, "deploy/healthcheck.py"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HEALTHCHECK_URL": url, "ALLOWED_HOSTS": allowed_hosts},
        capture_output=True,
        timeout=30,
        check=False,
    ).returncode


def test_healthcheck_passes_on_200_with_an_allowed_host(health_server):
    url, handler = health_server
    assert probe(url, ".api.example.com,localhost") == 0
    assert handler.hosts == ["api.example.com"]


def test_healthcheck_fails_on_503_and_on_no_server(health_server):
    url, handler = health_server
    handler.status = 503
    assert probe(url, "*") == 1
    assert handler.hosts == ["localhost"]
    assert probe("http://127.0.0.1:9/healthz", "localhost") == 1


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and not line.startswith((" ", "#")):
            pins[name.strip().lower()] = version.strip()
    return pins


def test_the_server_lock_matches_the_full_lock_and_has_no_dev_tools():
    server = _pins(ROOT / "requirements/server.txt")
    full = _pins(ROOT / "requirements/lock.txt")
    assert {"django", "uvicorn", "psycopg", "redis"} <= set(server)
    assert {name: full.get(name) for name in server} == server
    assert not {"pytest", "mypy", "ruff", "playwright"} & set(server)
