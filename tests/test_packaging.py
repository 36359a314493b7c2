"""The distribution a host installs: its version, its files, and a fresh install that works.

The wheel is built once per session from a copy of the working tree (so the build leaves
nothing behind in the checkout) the way the README says, then read as a zip and installed
into a new virtual environment where a host project runs ``manage.py check``.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

import phone_auth
import phone_referrals_web
import referrals

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "django-phone-referrals"
APP_PACKAGES = ("phone_auth", "referrals", "phone_referrals_web")
DEV_TOOLS = ("pytest", "ruff", "mypy", "django-stubs", "hypothesis", "playwright")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def source_files() -> list[str]:
    """Files of the checkout as git sees them (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [name for name in listed if (ROOT / name).is_file()]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built with ``pip wheel --no-deps`` from a copy of the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in source_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


@pytest.fixture(scope="session")
def wheel_metadata(wheel: Path, wheel_names: list[str]) -> email.message.Message:
    (name,) = [n for n in wheel_names if n.endswith(".dist-info/METADATA")]
    with zipfile.ZipFile(wheel) as archive:
        return email.message_from_bytes(archive.read(name))


def test_one_version_everywhere() -> None:
    schema = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())

    assert phone_auth.__version__ == referrals.__version__ == phone_referrals_web.__version__
    assert version(DISTRIBUTION) == phone_auth.__version__
    assert schema["info"]["version"] == phone_auth.__version__
    assert "version" in pyproject()["project"]["dynamic"]
    assert f"## {phone_auth.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_the_license_is_mit_in_every_place_that_names_it() -> None:
    text = (ROOT / "LICENSE").read_text()
    schema = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())

    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    assert schema["info"]["license"]["name"] == "MIT"
    assert "License :: OSI Approved :: MIT License" in pyproject()["project"]["classifiers"]


def test_the_wheel_holds_the_apps_only(wheel_names: list[str]) -> None:
    top_level = {name.split("/")[0] for name in wheel_names}
    (dist_info,) = [name for name in top_level if name.endswith(".dist-info")]

    assert top_level - {dist_info} == set(APP_PACKAGES)
    # Names a host project may well use for its own apps are never taken.
    assert not top_level & {"web", "config", "tests"}
    assert not [name for name in wheel_names if "/tests/" in name or "benchmarks" in name]
    for package in APP_PACKAGES:
        assert f"{package}/py.typed" in wheel_names
    assert "phone_auth/locale/ru/LC_MESSAGES/django.mo" in wheel_names
    assert "referrals/migrations/0001_initial.py" in wheel_names
    assert "phone_referrals_web/templates/phone_referrals_web/base.html" in wheel_names
    assert "phone_referrals_web/static/phone_referrals_web/app.css" in wheel_names
    assert "phone_referrals_web/locale/ru/LC_MESSAGES/django.mo" in wheel_names
    assert f"{dist_info}/licenses/LICENSE" in wheel_names or f"{dist_info}/LICENSE" in wheel_names


def test_a_host_never_installs_the_development_tools(wheel_metadata: email.message.Message) -> None:
    requirements = wheel_metadata.get_all("Requires-Dist") or []

    assert requirements
    for requirement in requirements:
        name = requirement.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip()
        assert name.lower() not in DEV_TOOLS, requirement
    assert set(DEV_TOOLS) <= {
        item.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip()
        for item in pyproject()["dependency-groups"]["dev"]
    }


def test_pre_commit_runs_the_lint_and_type_checks_of_make() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = {hook["id"]: hook["entry"] for repo in config["repos"] for hook in repo["hooks"]}
    makefile = (ROOT / "Makefile").read_text()

    assert entries == {"lint": "make lint", "typecheck": "make typecheck"}
    assert "lint: install" in makefile
    assert "typecheck: install" in makefile


@pytest.fixture(scope="session")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with only the wheel and its dependencies (locked versions)."""
    venv = tmp_path_factory.mktemp("venv")
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=120
    )
    lock = "lock-py312.txt" if sys.version_info >= (3, 12) else "lock.txt"
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "-c",
            str(ROOT / "requirements" / lock),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    return venv


def test_a_host_project_checks_clean_on_a_fresh_install_of_the_wheel(
    fresh_venv: Path, tmp_path: Path
) -> None:
    host = tmp_path / "host"
    shutil.copytree(ROOT / "tests" / "hosts" / "email_user", host)
    python = str(fresh_venv / "bin" / "python")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    where = subprocess.run(
        [python, "-c", "import phone_auth, referrals; print(phone_auth.__file__)"],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    checked = subprocess.run(
        [python, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    migrated = subprocess.run(
        [python, "manage.py", "migrate", "-v", "0"],
        cwd=host,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert where.stdout.startswith(str(fresh_venv)), where.stdout
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    for tool in ("pytest", "ruff", "mypy"):
        assert not (fresh_venv / "bin" / tool).exists()
