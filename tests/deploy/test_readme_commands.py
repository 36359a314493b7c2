"""The newcomer commands the READMEs show are the ones that work: the Postman run (newman
installed the way the section says, the staff phone made staff first) and the Docker
command (Compose told where the ``.env`` is)."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.live_service import ROOT

READMES = ["README.md", "README.ru.md"]


def section(readme: str, heading: str) -> str:
    text = (ROOT / readme).read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def shell_lines(text: str) -> list[str]:
    """The commands of the ``sh`` blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line:
                commands.append(line)
    return commands


@pytest.mark.parametrize("readme", READMES)
def test_postman_section_installs_newman_and_makes_the_staff_user(readme: str) -> None:
    commands = shell_lines(section(readme, "### Postman"))
    environment = json.loads((ROOT / "postman/local.postman_environment.json").read_text())
    staff_phone = {v["key"]: v["value"] for v in environment["values"]}["staffPhone"]

    assert commands[0] == "make newman"
    assert commands[1] == f".venv/bin/python manage.py make_staff --phone {staff_phone}"
    newman = shlex.split(commands[2])
    assert newman[:2] == [".tools/node_modules/.bin/newman", "run"]
    for path in (newman[2], newman[newman.index("-e") + 1]):
        assert (ROOT / path).is_file(), path
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^newman: \$\(TOOLS\)/node_modules/\.bin/newman$", makefile, re.M)
    assert "TOOLS := .tools" in makefile


@pytest.mark.parametrize("readme", READMES)
def test_docker_command_names_the_env_file_it_tells_you_to_create(readme: str) -> None:
    text = (ROOT / readme).read_text()
    start = text.index("- **Docker**")
    commands = shell_lines(text[start : text.index("\n- **", start + 1)])

    assert commands[0] == "cp deploy/.env.example .env"
    assert commands[1] == "docker compose --env-file .env -f deploy/compose.yaml up --build"
    assert (ROOT / "deploy/.env.example").is_file()
    header = (ROOT / "deploy/compose.yaml").read_text()
    assert commands[1] in header
