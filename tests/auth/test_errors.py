"""Every error is the contract's JSON body: unknown routes, wrong methods, crashes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions

from config import views as service_views
from phone_auth import errors
from tests.auth.support import VERIFY_CODE
from tests.support import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/nope/"),
        ("post", "/api/v1/no-such-route/"),
        ("delete", "/api/v1/auth/"),
        ("options", "/api/v2/auth/send-code/"),
        ("get", "/api/v1/auth/send-code/extra/"),
    ],
)
def test_an_unknown_api_path_is_json_404(api_client, method, path):
    response = getattr(api_client, method)(path)

    body = assert_error(response, 404, "not_found")
    assert body["detail"] == "Not found."


def test_an_unknown_page_is_json_404_too(api_client):
    assert_error(api_client.get("/no-such-page/"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/auth/send-code/"),
        ("put", "/api/v1/auth/verify-code/"),
        ("delete", "/api/v1/auth/token/refresh/"),
        ("post", "/.well-known/jwks.json"),
    ],
)
def test_a_wrong_method_is_json_405(api_client, method, path):
    response = getattr(api_client, method)(path)

    body = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in body["detail"]
    assert "Allow" in response


@pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}])
def test_details_are_english_by_default(api_client, headers):
    response = api_client.post(VERIFY_CODE, {"phone": "x", "code": "1"}, format="json", **headers)

    body = assert_error(response, 400, "invalid_input")
    assert body["detail"] == "Invalid input."
    assert body["fields"]["phone"] == ["Enter a valid phone number."]
    assert body["fields"]["code"] == ["Enter the 4-digit code from the SMS."]


# --- The handlers themselves -----------------------------------------------------------------


def handle(exc: Exception) -> tuple[int, dict, dict]:
    response = errors.api_exception_handler(exc, {"view": None})
    return response.status_code, dict(response.data), dict(response.headers)


def test_django_404_and_403_raised_in_a_view():
    assert handle(Http404())[:2] == (404, {"code": "not_found", "detail": "Not found."})
    status, body, _ = handle(PermissionDenied())
    assert (status, body["code"]) == (403, "permission_denied")


def test_validation_errors_of_any_shape_become_fields():
    nested = exceptions.ValidationError({"address": {"city": ["Required."]}, "tags": [["Bad."]]})
    plain = exceptions.ValidationError(["Nothing matches."])

    assert handle(nested)[1]["fields"] == {"address": ["Required."], "tags": ["Bad."]}
    assert handle(plain)[1]["fields"] == {"non_field_errors": ["Nothing matches."]}


def test_a_drf_throttle_carries_retry_after():
    status, body, headers = handle(exceptions.Throttled(wait=12.2))

    assert status == 429
    assert body["code"] == "rate_limited"
    assert body["retry_after"] == 13
    assert headers["Retry-After"] == "13"


def test_an_unknown_api_exception_keeps_its_status():
    status, body, _ = handle(exceptions.APIException())

    assert status == 500
    assert body["code"] == "error"


def test_authentication_failed_with_a_structured_detail():
    status, body, _ = handle(exceptions.AuthenticationFailed({"reason": "x"}))

    assert (status, body) == (
        401,
        {"code": "token_not_valid", "detail": "Token is invalid or expired."},
    )


def test_a_crash_is_a_plain_500_and_is_logged(auth_log):
    status, body, _ = handle(RuntimeError("database password is hunter2"))

    assert status == 500
    assert body == {"code": "server_error", "detail": "Server error. Please try again later."}
    # The details go to the server log only, with the traceback.
    [record] = auth_log
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


def test_application_error_body_and_headers():
    plain = errors.ApplicationError()
    limited = errors.RateLimitedError(0.2)

    assert plain.body() == {"code": "error", "detail": "The request could not be completed."}
    assert plain.headers() == {}
    assert limited.body()["retry_after"] == 1
    assert limited.headers() == {"Retry-After": "1"}


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        (service_views.json_bad_request, 400, "bad_request"),
        (service_views.json_permission_denied, 403, "permission_denied"),
        (service_views.json_not_found, 404, "not_found"),
        (service_views.json_server_error, 500, "server_error"),
    ],
)
def test_django_level_handlers_answer_json(handler, status, code):
    response = handler(RequestFactory().get("/"))

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert b'"code": "' + code.encode() + b'"' in response.content
