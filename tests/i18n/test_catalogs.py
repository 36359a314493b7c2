"""The Russian catalogs are complete, well-formed, compiled, and cover every string in the code.

The ``.po`` files are read with a small parser and the committed ``.mo`` files with Python's
own ``gettext``, so these checks need no extra package. Only the coverage check runs
``makemessages`` and therefore needs GNU gettext; the compiled catalogs never do.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
APPS = ("config", "phone_auth", "referrals", "phone_referrals_web")
RUSSIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
# Numbers that need each Russian plural form: 1 попытка, 2 попытки, 5 попыток.
FORM_EXAMPLES = {0: (1, 21, 101), 1: (2, 4, 22, 34), 2: (0, 5, 11, 12, 14, 25, 111)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}|</?\w+[^>]*>")
TEMPLATE_HEADER_VALUES = ("PACKAGE", "FULL NAME", "EMAIL@ADDRESS", "YEAR", "LANGUAGE <LL@li.org>")


@dataclass
class Entry:
    """One message of a ``.po`` file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def parse_po(path: Path) -> list[Entry]:
    """Every entry of the catalog (the header is the one with an empty ``msgid``)."""
    entries = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        entry = Entry()
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif match := re.fullmatch(r'(msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"', line):
                key = match[1]
                fields[key] = match[2]
            else:
                fields[key] += re.fullmatch(r'"(.*)"', line)[1]  # type: ignore[index]
        entry.msgid = _unescape(fields["msgid"])
        if "msgid_plural" in fields:
            entry.msgid_plural = _unescape(fields["msgid_plural"])
            forms = sorted(k for k in fields if k.startswith("msgstr["))
            entry.msgstr = [_unescape(fields[k]) for k in forms]
        else:
            entry.msgstr = [_unescape(fields["msgstr"])]
        entries.append(entry)
    return entries


def catalog(app: str) -> Path:
    return BASE_DIR / app / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def messages(app: str) -> list[Entry]:
    return [entry for entry in parse_po(catalog(app)) if entry.msgid]


def header(app: str) -> dict[str, str]:
    [head] = [entry for entry in parse_po(catalog(app)) if not entry.msgid]
    assert "fuzzy" not in head.flags
    lines = [line for line in head.msgstr[0].split("\n") if line]
    return dict(line.split(": ", 1) for line in lines)


@pytest.mark.parametrize("app", APPS)
def test_header_is_russian_with_three_plural_forms(app: str) -> None:
    values = header(app)
    assert values["Language"] == "ru"
    assert values["Content-Type"] == "text/plain; charset=UTF-8"
    assert values["Plural-Forms"] == RUSSIAN_PLURALS
    assert values["Project-Id-Version"].startswith("django-phone-referrals")
    for name in ("Last-Translator", "Language-Team"):
        assert values[name] == "django-phone-referrals"
    text = catalog(app).read_text(encoding="utf-8")
    for leftover in TEMPLATE_HEADER_VALUES:
        assert leftover not in text


@pytest.mark.parametrize("app", APPS)
def test_every_message_is_translated_and_none_is_fuzzy(app: str) -> None:
    entries = messages(app)
    assert entries
    for entry in entries:
        assert "fuzzy" not in entry.flags, entry.msgid
        assert all(text.strip() for text in entry.msgstr), entry.msgid
        if entry.msgid_plural is not None:
            assert len(entry.msgstr) == 3, entry.msgid
    assert "#~" not in catalog(app).read_text(encoding="utf-8")


@pytest.mark.parametrize("app", APPS)
def test_translations_keep_every_placeholder_and_tag(app: str) -> None:
    for entry in messages(app):
        expected = Counter(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural is not None:
            assert Counter(PLACEHOLDER.findall(entry.msgid_plural)) == expected
        for text in entry.msgstr:
            assert Counter(PLACEHOLDER.findall(text)) == expected, (entry.msgid, text)


@pytest.mark.parametrize("app", APPS)
def test_compiled_catalog_matches_the_po_file(app: str) -> None:
    with catalog(app).with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    assert compiled.info()["language"] == "ru"
    assert compiled.info()["plural-forms"] == RUSSIAN_PLURALS
    for entry in messages(app):
        if entry.msgid_plural is None:
            assert compiled.gettext(entry.msgid) == entry.msgstr[0], entry.msgid
            continue
        for form, numbers in FORM_EXAMPLES.items():
            for n in numbers:
                text = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                assert text == entry.msgstr[form], (entry.msgid, n)


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext")
@pytest.mark.parametrize("app", APPS)
def test_catalog_covers_every_string_in_the_code(app: str, tmp_path: Path) -> None:
    """What ``make messages`` would extract today is exactly what the catalog holds."""
    copy = tmp_path / app
    shutil.copytree(BASE_DIR / app, copy, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), "makemessages", "-l", "ru", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = parse_po(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po")
    committed = messages(app)
    assert {(e.msgid, e.msgid_plural) for e in extracted if e.msgid} == {
        (e.msgid, e.msgid_plural) for e in committed
    }, "run `make messages` and translate the new strings"
