"""The pieces of the Docker smoke run that need no Docker: the pip configuration passed into
the build, and the base image script's cache and tag."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.docker_smoke import build_pip_config
from tests.live_service import ROOT


def test_pip_config_keeps_indexes_and_the_ca_and_drops_local_paths(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    listed = [
        f"global.cert='{ca}'",
        "global.constraint='/etc/xdg/pip/constraints.txt'",
        "global.extra-index-url='file:///opt/pypi/simple https://mirror.example/simple'",
        "global.find-links='/opt/wheels'",
        "global.index-url='https://index.example/simple'",
        ":env:.default-timeout='180'",
        ":env:.index-url='https://other.example/simple'",
    ]

    conf, bundle = build_pip_config(listed)

    assert bundle == ca
    lines = conf.splitlines()
    assert lines[0] == "[global]"
    assert "index-url = https://other.example/simple" in lines  # the environment wins
    assert "extra-index-url = https://mirror.example/simple" in lines
    assert "default-timeout = 180" in lines
    assert "cert = /run/secrets/pip_ca" in lines
    assert not any("/opt/" in line or "constraint" in line for line in lines)


def test_pip_config_without_settings_is_empty_and_passes_no_ca() -> None:
    conf, bundle = build_pip_config([])

    assert conf == "[global]\n"
    assert bundle is None


def test_pip_config_ignores_a_ca_file_that_does_not_exist() -> None:
    conf, bundle = build_pip_config(["global.cert='/no/such/ca.pem'"])

    assert bundle is None
    assert "cert" not in conf


def test_base_image_tag_and_cache_change_with_the_package_list() -> None:
    script = (ROOT / "tests/deploy/base_image.sh").read_text()
    version = re.search(r"^VERSION=(\d+)", script, re.M)
    assert version
    assert 'TAG="${1:-phone-referrals-base:bookworm-py311-v$VERSION}"' in script
    assert "base-bookworm-py311-v$VERSION.tar.gz" in script
    assert "debootstrap --variant=minbase" in script
    assert "docker import" in script


def test_ci_starts_dockerd_and_runs_the_smoke_after_the_suite() -> None:
    steps = [
        line.strip()
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if re.fullmatch(r"(make [\w-]+|start_docker)", line.strip())
    ]
    assert steps == [
        "make system-deps",
        "make test",
        "start_docker",
        "make docker-smoke",
        "make test-django6",
    ]
