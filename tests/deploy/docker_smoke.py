"""Builds the service's Docker image and runs a sign-in and profile flow through it.

    .venv/bin/python -m tests.deploy.docker_smoke        (or: make docker-smoke)

The image is built from ``deploy/Dockerfile`` on a base made from Debian's packages
(``tests/deploy/base_image.sh``: no image registry is needed), with this machine's pip
configuration passed in as build secrets. The container runs on the host network against
the machine's PostgreSQL (its own database, ``DOCKER_SMOKE_DATABASE``) and Redis (database
``DOCKER_SMOKE_REDIS_DB``); once Docker reports it healthy, the flow goes over HTTP: send a
code, verify it, read and change the profile, open the web UI and its stylesheet.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("DOCKER_SMOKE_IMAGE", "phone-referrals:ci")
BASE_TAG = os.environ.get("DOCKER_SMOKE_BASE", "")  # empty: the base script's own tag
PG_ADMIN_URL = os.environ.get("DOCKER_SMOKE_PG", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("DOCKER_SMOKE_DATABASE", "pr_docker")
REDIS_HOST_URL = os.environ.get("DOCKER_SMOKE_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("DOCKER_SMOKE_REDIS_DB", "15"))
PORT = int(os.environ.get("DOCKER_SMOKE_PORT", "8000"))
HEALTHY_TIMEOUT = 180.0
PHONE = "+79110000777"

# pip settings that mean the same inside the build; local paths (find-links, constraint
# files, file:// indexes) name this machine's disk and are left out.
PIP_KEYS = {
    "index-url",
    "extra-index-url",
    "trusted-host",
    "timeout",
    "default-timeout",
    "retries",
    "proxy",
}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def log(message: str) -> None:
    print(f"docker smoke: {message}", flush=True)


def run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, text=True, **kwargs)


def host_pip_config() -> tuple[str, Path | None]:
    """This machine's effective pip configuration (files and ``PIP_*``) as a ``pip.conf``
    for the build, and the CA bundle pip is told to trust, if any."""
    listed = run(sys.executable, "-m", "pip", "config", "list", capture_output=True).stdout
    return build_pip_config(listed.splitlines())


def build_pip_config(listed: list[str]) -> tuple[str, Path | None]:
    """``pip config list`` lines as a ``pip.conf`` for the build, and the CA bundle to pass.

    Settings naming this machine's disk (``file:`` indexes, find-links, constraint files)
    are left out; the CA bundle is mounted as the ``pip_ca`` secret.
    """
    values: dict[str, str] = {}
    for line in listed:
        match = re.fullmatch(r"(?:[\w-]*|:env:)\.([\w-]+)='(.*)'", line.strip())
        if match:
            values[match.group(1)] = match.group(2)  # later sources win, as in pip
    cert = values.get("cert")
    ca = Path(cert) if cert and Path(cert).is_file() else None
    lines = ["[global]"]
    for key, value in values.items():
        if key not in PIP_KEYS:
            continue
        kept = [part for part in value.split() if not part.startswith(("file:", "/"))]
        if kept:
            lines.append(f"{key} = {' '.join(kept)}")
    if ca is not None:
        lines.append("cert = /run/secrets/pip_ca")
    return "\n".join(lines) + "\n", ca


def buildkit_client() -> tuple[str, dict[str, str]]:
    """A docker client that builds with BuildKit (the Dockerfile mounts build secrets):
    one with the buildx plugin, or a client older than 23 that has BuildKit built in."""
    candidates = [path for path in (shutil.which("docker"), "/usr/bin/docker") if path]
    for client in dict.fromkeys(candidates):
        if not os.access(client, os.X_OK):
            continue
        if subprocess.run([client, "buildx", "version"], capture_output=True).returncode == 0:
            return client, {}
        version = subprocess.run(
            [client, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        major = re.match(r"(\d+)\.", version)
        if major and int(major.group(1)) < 23:
            return client, {"DOCKER_BUILDKIT": "1"}
    raise SystemExit("docker smoke: no docker client with BuildKit (install buildx or docker.io)")


def build_image(workdir: Path) -> None:
    script = ["bash", str(ROOT / "tests/deploy/base_image.sh"), *([BASE_TAG] if BASE_TAG else [])]
    base = run(*script, stdout=subprocess.PIPE).stdout.strip()
    pip_conf, ca = host_pip_config()
    conf_path = workdir / "pip.conf"
    conf_path.write_text(pip_conf)
    client, client_env = buildkit_client()
    command = [client, "build", "--progress=plain", "--network", "host"]
    command += ["-f", "deploy/Dockerfile", "--build-arg", f"BASE_IMAGE={base}", "-t", IMAGE]
    command += ["--secret", f"id=pip_conf,src={conf_path}"]
    if ca is not None:
        command += ["--secret", f"id=pip_ca,src={ca}"]
    for name in PROXY_VARIABLES:
        if os.environ.get(name):
            command += ["--build-arg", name]
    command.append(".")
    started = time.monotonic()
    build_log = workdir / "build.log"
    with build_log.open("w") as out:
        result = subprocess.run(
            command, cwd=ROOT, env={**os.environ, **client_env}, stdout=out, stderr=out
        )
    if result.returncode != 0:
        print(build_log.read_text()[-6000:], file=sys.stderr)
        raise SystemExit(f"docker smoke: the image did not build (exit {result.returncode})")
    log(f"built {IMAGE} on {base} in {time.monotonic() - started:.0f} s")


def fresh_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    redis.Redis.from_url(f"{REDIS_HOST_URL}/{REDIS_DB}").flushdb()


def drop_database() -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    redis.Redis.from_url(f"{REDIS_HOST_URL}/{REDIS_DB}").flushdb()


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_container(name: str) -> None:
    if not port_is_free(PORT):
        raise SystemExit(
            f"docker smoke: port {PORT} is taken; free it or set DOCKER_SMOKE_PORT "
            "(the container listens on the host network)"
        )
    environment = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": f"{REDIS_HOST_URL}/{REDIS_DB}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "AUTH_EXPOSE_CODES": "true",
        "SMS_BACKEND": "console",
        "SMS_DELAY": "0",
        "WEB_CONCURRENCY": "1",
        "PORT": str(PORT),
        "HEALTHCHECK_URL": f"http://127.0.0.1:{PORT}/healthz",
    }
    command = ["docker", "run", "-d", "--name", name, "--network", "host"]
    command += ["--health-interval", "2s", "--health-start-period", "60s"]
    for key, value in environment.items():
        command += ["-e", f"{key}={value}"]
    run(*command, IMAGE, capture_output=True)


def wait_healthy(name: str) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    started = time.monotonic()
    while time.monotonic() < deadline:
        state = json.loads(
            run(
                "docker", "inspect", "--format", "{{json .State}}", name, capture_output=True
            ).stdout
        )
        if not state.get("Running"):
            raise SystemExit(f"docker smoke: the container stopped (exit {state.get('ExitCode')})")
        if state.get("Health", {}).get("Status") == "healthy":
            log(f"healthy after {time.monotonic() - started:.0f} s")
            return
        time.sleep(1)
    raise SystemExit(f"docker smoke: not healthy after {HEALTHY_TIMEOUT:.0f} s")


def call(
    method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any, str]:
    """One request to the container: status, JSON body (or None) and content type."""
    headers = {"Host": "127.0.0.1", "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}", data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, raw, kind = response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers["Content-Type"]
    payload = json.loads(raw) if kind and kind.startswith("application/json") else None
    return status, payload, kind or ""


def check(label: str, condition: bool, detail: Any = "") -> None:
    if not condition:
        raise SystemExit(f"docker smoke: {label} failed: {detail}")
    log(f"ok  {label}")


def sign_in_and_profile_flow() -> int:
    """The flow through the container; the number of checks passed."""
    checks = 0

    def ok(label: str, condition: bool, detail: Any = "") -> None:
        nonlocal checks
        check(label, condition, detail)
        checks += 1

    status, health, _ = call("GET", "/healthz")
    ok("health answers with the database and the cache", status == 200, health)
    status, sent, _ = call("POST", "/api/v1/auth/send-code/", {"phone": "8 911 000-07-77"})
    ok("send-code", status == 200 and sent["phone"] == PHONE and sent.get("debug_code"), sent)
    status, tokens, _ = call(
        "POST", "/api/v1/auth/verify-code/", {"phone": PHONE, "code": sent["debug_code"]}
    )
    ok("verify-code signs up", status == 200 and tokens["is_new_user"] is True, tokens)
    access = tokens["access"]
    status, profile, _ = call("GET", "/api/v1/profile/", token=access)
    ok("profile", status == 200 and profile["phone"] == PHONE and profile["invite_code"], profile)
    status, changed, _ = call("PATCH", "/api/v1/profile/", {"first_name": "Docker"}, token=access)
    ok("profile change", status == 200 and changed["first_name"] == "Docker", changed)
    status, again, _ = call("GET", "/api/v1/profile/", token=access)
    ok("the change is kept", status == 200 and again["first_name"] == "Docker", again)
    status, error, _ = call("GET", "/api/v1/profile/")
    ok("no token is 401", status == 401 and error["code"] == "not_authenticated", error)
    status, _, kind = call("GET", "/")
    ok("web UI page", status == 200 and kind.startswith("text/html"), kind)
    status, _, kind = call("GET", "/static/phone_referrals_web/app.css")
    ok("web UI stylesheet", status == 200 and kind.startswith("text/css"), kind)
    return checks


def main() -> int:
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        raise SystemExit("docker smoke: no Docker engine answers (start dockerd)")
    started = time.monotonic()
    name = f"phone-referrals-smoke-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="docker-smoke-") as workdir:
        build_image(Path(workdir))
    fresh_database()
    try:
        start_container(name)
        try:
            wait_healthy(name)
            passed = sign_in_and_profile_flow()
        except BaseException:
            logs = subprocess.run(["docker", "logs", "--tail", "80", name], capture_output=True)
            print(logs.stdout.decode() + logs.stderr.decode(), file=sys.stderr)
            raise
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    finally:
        drop_database()
    log(f"{passed} checks in {time.monotonic() - started:.0f} s")
    print(f"smoke: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
