"""``deploy/nginx.conf`` is valid and proxies the service, as the README tells to run it.

nginx is Debian's package (``apt-get install nginx``); without it this module is skipped.
Started with a configuration of its own in a temporary directory, on free ports; the
machine's nginx (if any) is not touched.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_service import ROOT, free_port, manage, service_env, start_server, stop_server

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def main_config(prefix: Path, site: str) -> str:
    """A whole nginx.conf around the site configuration, every path in ``prefix``."""
    temp = " ".join(
        f"{kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"user root root; worker_processes 1; daemon off; pid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        f"http {{ access_log off; {temp}\n{site}\n}}\n"
    )


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service behind nginx with the repository's configuration; nginx's address."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    work = tmp_path_factory.mktemp("nginx")
    env = service_env(work / "db.sqlite3", DEBUG="true", TRUSTED_PROXIES="1", SMS_DELAY="0")
    manage(env, "migrate", "--noinput")
    server = start_server(env, work / "server.log")
    port = free_port()
    site = (
        (ROOT / "deploy/nginx.conf")
        .read_text()
        .replace("server 127.0.0.1:8000;", f"server {server.base_url.removeprefix('http://')};")
        .replace("listen 80;", f"listen 127.0.0.1:{port};")
    )
    conf = work / "nginx.conf"
    conf.write_text(main_config(work, site))
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(work)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(work)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (work / "error.log").read_text()
            time.sleep(0.1)
        yield base
    finally:
        nginx.terminate()
        nginx.wait(timeout=15)
        stop_server(server.process)


def test_the_configuration_is_valid_and_proxies_the_api(proxied: str) -> None:
    with httpx.Client(base_url=proxied, timeout=30) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        sent = client.post("/api/v1/auth/send-code/", json={"phone": "+79110000601"})
        assert sent.status_code == 200, sent.text
        assert "no-store" in sent.headers["Cache-Control"]
        page = client.get("/")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_a_spoofed_forwarded_for_does_not_reach_the_service(proxied: str) -> None:
    # nginx replaces the header: the service's budgets see nginx's peer, never the claim, so
    # a new made-up address per request still runs into the one budget of 30 an hour.
    with httpx.Client(base_url=proxied, timeout=30) as client:
        for index in range(31):
            answer = client.post(
                "/api/v1/auth/send-code/",
                json={"phone": f"+791100007{index:02d}"},
                headers={"X-Forwarded-For": f"198.51.100.{index + 1}"},
            )
            if answer.status_code != 200:
                break
    assert answer.status_code == 429, answer.text
    assert answer.json()["code"] == "rate_limited"
