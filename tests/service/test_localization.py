"""Every error ``detail`` the API gives exists in English and in Russian (``Accept-Language``),
while ``code`` stays the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest

from tests.service.support import CYRILLIC, INVITE_ALPHABET, Api, new_phone
from tests.support import assert_error

Call = Callable[[str], httpx.Response]


def _both(call: Call, status: int, code: str | None) -> None:
    """``call`` in English and in Russian gives the same error in each language."""
    english = assert_error(call("en"), status, code)
    russian = assert_error(call("ru"), status, english["code"])
    assert not CYRILLIC.search(english["detail"]), english
    assert CYRILLIC.search(russian["detail"]), russian


def test_auth_errors_in_both_languages(api: Api, phone: str) -> None:
    _both(lambda lang: api.get("/api/v1/nope/", language=lang), 404, "not_found")
    _both(lambda lang: api.get("/api/v1/auth/send-code/", language=lang), 405, None)
    _both(lambda lang: api.get("/api/v1/profile/", language=lang), 401, "not_authenticated")
    _both(
        lambda lang: api.get("/api/v1/profile/", token="x.y.z", language=lang),
        401,
        "token_not_valid",
    )
    _both(
        lambda lang: api.post("/api/v1/auth/send-code/", {"phone": "x"}, language=lang),
        400,
        "invalid_input",
    )
    _both(
        lambda lang: api.post(
            "/api/v1/auth/verify-code/", {"phone": new_phone(), "code": "1234"}, language=lang
        ),
        400,
        "no_active_code",
    )
    code = api.new_code(phone)
    wrong = f"{(int(code) + 1) % 10000:04d}"
    _both(
        lambda lang: api.post("/api/v1/auth/send-code/", {"phone": phone}, language=lang),
        429,
        "resend_too_soon",
    )
    _both(
        lambda lang: api.post(
            "/api/v1/auth/verify-code/", {"phone": phone, "code": wrong}, language=lang
        ),
        400,
        "invalid_code",
    )
    api.verify(phone, wrong)
    _both(
        lambda lang: api.post(
            "/api/v1/auth/verify-code/", {"phone": phone, "code": code}, language=lang
        ),
        429,
        "too_many_attempts",
    )


@pytest.mark.usefixtures("same_clock_hour")
def test_profile_errors_in_both_languages(api: Api) -> None:
    a, b = api.sign_in(new_phone()), api.sign_in(new_phone())
    assert api.activate(b["access"], a["profile"]["invite_code"]).status_code == 200

    def invite(user: dict[str, object], code: str) -> Call:
        return lambda lang: api.post(
            "/api/v1/profile/invite/",
            {"invite_code": code},
            token=str(user["access"]),
            language=lang,
        )

    _both(invite(a, a["profile"]["invite_code"]), 400, "own_invite_code")
    _both(invite(a, b["profile"]["invite_code"]), 400, "invite_cycle")
    _both(invite(b, b["profile"]["invite_code"]), 409, "invite_already_activated")
    _both(
        lambda lang: api.get("/api/v1/users/", token=a["access"], language=lang),
        403,
        "permission_denied",
    )
    for _ in range(100):  # failed activations until the limit
        unknown = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(6))
        if api.activate(a["access"], unknown).status_code == 429:
            break
    _both(invite(a, unknown), 429, "rate_limited")


def test_region_error_in_both_languages(short_api: Api) -> None:
    _both(
        lambda lang: short_api.post(
            "/api/v1/auth/send-code/", {"phone": "+447400123456"}, language=lang
        ),
        400,
        "phone_region_not_allowed",
    )
