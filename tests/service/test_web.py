"""The web UI for people, driven over plain HTTP: ``/`` (enter phone) → code page →
``/profile/`` (showing the invite code) → log out, without a single server error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from tests.service.support import INVITE_CODE, TIMEOUT, Api, Service, new_phone


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """Every ``<form>`` of a page with its named inputs' default values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
            self._open = True
        elif (
            self._open
            and tag in ("input", "textarea", "select")
            and "name" in values
            and values.get("type") not in ("submit", "button")
        ):
            self.forms[-1].fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def _forms(page: httpx.Response) -> list[Form]:
    parser = _Forms()
    parser.feed(page.text)
    return parser.forms


def _form_with(page: httpx.Response, name: str) -> Form:
    forms = [form for form in _forms(page) if name in form.fields]
    assert forms, f"no form with a {name!r} field on {page.url}"
    return forms[0]


def _submit(browser: httpx.Client, page: httpx.Response, form: Form) -> httpx.Response:
    answer = browser.post(urljoin(str(page.url), form.action or str(page.url)), data=form.fields)
    assert answer.status_code in (200, 302, 303), (answer.status_code, answer.text[:500])
    return answer


def _follow(browser: httpx.Client, answer: httpx.Response) -> httpx.Response:
    while answer.status_code in (301, 302, 303):
        answer = browser.get(urljoin(str(answer.url), answer.headers["location"]))
    assert answer.status_code == 200, (answer.status_code, answer.url)
    return answer


def test_sign_in_profile_and_log_out_in_the_browser_pages(
    api: Api, service: Service, phone: str
) -> None:
    with httpx.Client(
        base_url=service.base_url, timeout=TIMEOUT, headers={"X-Forwarded-For": api.ip}
    ) as browser:
        home = browser.get("/")
        assert home.status_code == 200
        form = _form_with(home, "phone")
        form.fields["phone"] = "8" + phone[2:]
        offset = service.log_size()
        code_page = _follow(browser, _submit(browser, home, form))

        form = _form_with(code_page, "code")
        form.fields["code"] = service.code_from_log(phone, offset)
        profile_page = _follow(browser, _submit(browser, code_page, form))
        assert profile_page.url.path == "/profile/"

        candidates = set(INVITE_CODE.findall(profile_page.text))
        invitee = api.sign_in(new_phone())
        shown = [
            code
            for code in sorted(candidates)
            if api.activate(invitee["access"], code).status_code == 200
        ]
        assert len(shown) == 1, candidates
        assert api.profile(invitee["access"])["inviter_phone"] == phone

        logout = [form for form in _forms(profile_page) if "logout" in form.action.replace("-", "")]
        assert logout, "the profile page has a log-out form"
        after = _follow(browser, _submit(browser, profile_page, logout[0]))
        assert after.url.path != "/profile/"
        again = browser.get("/profile/")
        assert again.status_code in (302, 303)
