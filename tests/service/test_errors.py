"""The error contract: every 4xx is JSON ``{code, detail}``, validation errors name their
fields, nothing in a write body is silently ignored, and ``detail`` follows
``Accept-Language`` (English by default, Russian on request).
"""

from __future__ import annotations

import json

import pytest

from tests.service.support import CYRILLIC, Api, assert_invalid_input
from tests.support import assert_error


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-route/",
        "/api/v1/profile/nothing/",
        "/api/v1/profile/1/",
        "/api/v1/users/999999999/x/",
    ],
)
def test_unknown_api_route_is_json_404_not_found(api: Api, path: str) -> None:
    assert_error(api.get(path), 404, "not_found")


@pytest.mark.parametrize("user_id", ["999999999", "abc"])
def test_unknown_staff_user_id_is_404_not_found_for_staff(
    api: Api, staff_access: str, user_id: str
) -> None:
    assert_error(api.get(f"/api/v1/users/{user_id}/", token=staff_access), 404, "not_found")


def test_profile_routes_take_no_id(api: Api, phone: str) -> None:
    tokens = api.sign_in(phone)
    own = tokens["profile"]["id"]
    assert_error(api.get(f"/api/v1/profile/{own}/", token=tokens["access"]), 404, "not_found")


def test_errors_are_json_in_production_mode_too(short_api: Api) -> None:
    assert_error(short_api.get("/api/v1/no-such-route/"), 404, "not_found")
    assert_error(short_api.get("/api/v1/auth/send-code/"), 405)
    assert_error(short_api.get("/api/v1/profile/"), 401, "not_authenticated")
    assert_invalid_input(short_api.send_code("nonsense"), "phone")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/auth/send-code/"),
        ("GET", "/api/v1/auth/verify-code/"),
        ("PUT", "/api/v1/auth/token/refresh/"),
        ("DELETE", "/api/v1/auth/send-code/"),
    ],
)
def test_wrong_method_is_json_405(api: Api, method: str, path: str) -> None:
    assert_error(api.request(method, path), 405)


def test_wrong_method_on_an_authenticated_route_is_405_for_a_signed_in_user(
    api: Api, phone: str
) -> None:
    tokens = api.sign_in(phone)
    assert_error(api.request("DELETE", "/api/v1/profile/", token=tokens["access"]), 405)
    assert_error(api.get("/api/v1/profile/invite/", token=tokens["access"]), 405)


def test_validation_error_names_the_field(api: Api) -> None:
    body = assert_invalid_input(api.send_code("not a phone"), "phone")
    assert set(body["fields"]) == {"phone"}


def test_missing_required_field_is_invalid_input(api: Api) -> None:
    assert_invalid_input(api.post("/api/v1/auth/send-code/", {}), "phone")
    assert_invalid_input(api.post("/api/v1/auth/verify-code/", {"code": "1234"}), "phone")
    assert_invalid_input(api.post("/api/v1/auth/token/refresh/", {}), "refresh")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/send-code/", {"phone": "+79110000000", "extra": 1}),
        ("/api/v1/auth/verify-code/", {"phone": "+79110000000", "code": "1234", "x": "y"}),
        ("/api/v1/auth/token/refresh/", {"refresh": "abc", "access": "abc"}),
    ],
)
def test_unknown_field_in_a_write_body_is_invalid_input(
    api: Api, path: str, body: dict[str, object]
) -> None:
    assert_invalid_input(api.post(path, body))


def test_unknown_field_in_profile_writes_is_invalid_input(api: Api, phone: str) -> None:
    access = api.sign_in(phone)["access"]
    assert_invalid_input(
        api.post("/api/v1/profile/invite/", {"invite_code": "ABCDEF", "x": 1}, token=access)
    )
    assert_invalid_input(api.patch("/api/v1/profile/", {"nickname": "x"}, token=access))


def test_malformed_json_is_a_json_400(api: Api) -> None:
    answer = api.request(
        "POST",
        "/api/v1/auth/send-code/",
        content=b'{"phone": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(answer, 400)


@pytest.mark.parametrize("body", [[], "phone", 7, None])
def test_json_that_is_not_an_object_is_a_json_400(api: Api, body: object) -> None:
    answer = api.request(
        "POST",
        "/api/v1/auth/send-code/",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert_error(answer, 400)


def test_non_json_body_is_a_json_4xx(api: Api) -> None:
    answer = api.request("POST", "/api/v1/auth/send-code/", data={"phone": "+79110000000"})
    assert 400 <= answer.status_code < 500
    assert_error(answer, answer.status_code)


def test_detail_is_english_by_default_and_russian_on_request(api: Api) -> None:
    english = assert_invalid_input(api.send_code("nonsense"), "phone")
    explicit = assert_invalid_input(
        api.post("/api/v1/auth/send-code/", {"phone": "nonsense"}, language="en"), "phone"
    )
    russian = assert_invalid_input(
        api.post("/api/v1/auth/send-code/", {"phone": "nonsense"}, language="ru"), "phone"
    )
    assert not CYRILLIC.search(english["detail"]), english
    assert not CYRILLIC.search(" ".join(english["fields"]["phone"])), english
    assert english == explicit
    assert russian["code"] == "invalid_input"
    assert CYRILLIC.search(russian["detail"]), russian
    assert CYRILLIC.search(" ".join(russian["fields"]["phone"])), russian


@pytest.mark.parametrize("language", ["ru", "ru-RU,ru;q=0.9,en;q=0.5"])
@pytest.mark.parametrize(
    ("path", "status"), [("/api/v1/profile/", 401), ("/api/v1/no-such-route/", 404)]
)
def test_russian_detail_for_auth_and_not_found_errors(
    api: Api, language: str, path: str, status: int
) -> None:
    english = assert_error(api.get(path), status)
    russian = assert_error(api.get(path, language=language), status)
    assert russian["code"] == english["code"]
    assert not CYRILLIC.search(english["detail"]), english
    assert CYRILLIC.search(russian["detail"]), russian
