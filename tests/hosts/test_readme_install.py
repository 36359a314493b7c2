"""The README's install section is what the host projects run, word for word.

The host projects' settings and URLs hold the README's blocks between ``# ---- README
----`` rulers (the web UI's and the user admin's between rulers of their own); these
tests compare them with both READMEs, so the section a newcomer copies is the one the
host-project tests prove. They also check that the section
installs from a checkout or a wheel (the package is not published) and names every
provider's ``PHONE_AUTH_SMS_OPTIONS`` keys.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phone_auth.sms.exolve import ExolveSmsBackend
from phone_auth.sms.smsaero import SmsAeroSmsBackend
from phone_auth.sms.twilio import TwilioSmsBackend

ROOT = Path(__file__).resolve().parents[2]
HOSTS = Path(__file__).resolve().parent
READMES = ("README.md", "README.ru.md")
RULER = "# ---- README ----"
WEB_UI_RULER = "# ---- README: web UI ----"
USER_ADMIN_RULER = "# ---- README: user admin ----"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
REFERRAL_LINES = ("referrals", "PHONE_AUTH_ADAPTER")


def install_section(readme: str) -> str:
    """The host-project section of ``readme`` (up to the next second-level heading)."""
    text = (ROOT / readme).read_text()
    marker = (
        "## Using the apps in another Django project"
        if readme == "README.md"
        else "## Подключение приложений к другому Django-проекту"
    )
    start = text.index(marker)
    end = text.find("\n## ", start + len(marker))
    return text[start : end if end != -1 else len(text)]


def blocks(readme: str, language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(install_section(readme)) if lang == language]


def ruled(path: Path, ruler: str = RULER) -> str:
    """The text between the two ``ruler`` lines of a host file."""
    text = path.read_text()
    start = text.index(ruler) + len(ruler) + 1
    return text[start : text.index(ruler, start)]


def readme_block(readme: str, starts: str) -> str:
    (found,) = [body for body in blocks(readme, "python") if body.startswith(starts)]
    return found


def without_referrals(block: str) -> str:
    """The block as the README says to change it for phone sign-in alone."""
    lines = []
    for line in block.splitlines(keepends=True):
        if line.startswith("INSTALLED_APPS +="):
            lines.append(line.replace(', "referrals"', ""))
        elif not any(word in line for word in REFERRAL_LINES):
            lines.append(line)
    return "".join(lines)


@pytest.mark.parametrize("readme", sorted(READMES))
@pytest.mark.parametrize(
    ("host", "package"), [("email_user", "emailhost"), ("stock_user", "stockhost")]
)
def test_the_hosts_hold_the_readmes_settings_and_urls(readme: str, host: str, package: str):
    settings = readme_block(readme, 'INSTALLED_APPS += ["rest_framework"')
    urls = readme_block(readme, "from django.urls import include, path")

    assert ruled(HOSTS / host / package / "settings.py") == settings
    urls_file = HOSTS / host / package / "urls.py"
    assert "from django.urls import include, path\n" in urls_file.read_text()
    assert ruled(urls_file) == urls.split("\n", 2)[2]


@pytest.mark.parametrize("readme", sorted(READMES))
def test_the_phone_only_host_leaves_out_what_the_readme_says(readme: str):
    settings = readme_block(readme, 'INSTALLED_APPS += ["rest_framework"')
    urls = readme_block(readme, "from django.urls import include, path")

    assert ruled(HOSTS / "phone_only" / "phonehost" / "settings.py") == without_referrals(settings)
    assert ruled(HOSTS / "phone_only" / "phonehost" / "urls.py") == without_referrals(
        urls.split("\n", 2)[2]
    )
    assert "referrals" in install_section(readme)


@pytest.mark.parametrize("readme", sorted(READMES))
def test_the_web_ui_host_holds_the_readmes_lines_for_the_pages(readme: str):
    settings = readme_block(readme, 'INSTALLED_APPS += ["phone_referrals_web"]')
    urls = readme_block(readme, "urlpatterns += [path(")
    host = HOSTS / "email_user" / "emailhost"

    assert ruled(host / "settings.py", WEB_UI_RULER) == settings
    assert ruled(host / "urls.py", WEB_UI_RULER) == urls
    assert "phone_referrals_web.urls" in urls


@pytest.mark.parametrize("readme", sorted(READMES))
def test_installing_is_from_a_checkout_or_a_wheel(readme: str):
    commands = "".join(blocks(readme, "sh"))

    assert "pip install django-phone-referrals" not in commands
    assert "pip wheel --no-deps -w dist" in commands
    assert "pip install dist/django_phone_referrals-" in commands


@pytest.mark.parametrize("readme", sorted(READMES))
@pytest.mark.parametrize(
    ("alias", "backend"),
    [("twilio", TwilioSmsBackend), ("smsaero", SmsAeroSmsBackend), ("exolve", ExolveSmsBackend)],
)
def test_each_provider_is_switched_on_with_named_settings_keys(readme: str, alias, backend):
    section = install_section(readme)

    assert f'PHONE_AUTH_SMS_BACKEND = "{alias}"' in section
    for key in backend.required_options:
        assert f'"{key}"' in section, key


@pytest.mark.parametrize("readme", sorted(READMES))
def test_the_section_says_where_the_console_code_appears(readme: str):
    section = install_section(readme)

    assert "SMS to +79110000000: " in section
    assert "invite_activated" in section


@pytest.mark.parametrize("readme", sorted(READMES))
def test_the_user_admin_host_holds_the_readmes_opt_in_lines(readme: str):
    lines = readme_block(readme, "from referrals.admin import ReferralUserAdminMixin")
    host_admin = HOSTS / "email_user" / "accounts" / "admin.py"

    assert ruled(host_admin, USER_ADMIN_RULER).strip() == lines.strip()
    assert "admin.site.unregister(User)" in install_section(readme)  # Django's own User
    assert "REFERRALS_USER_ADMIN" not in (ROOT / readme).read_text()  # no setting any more
