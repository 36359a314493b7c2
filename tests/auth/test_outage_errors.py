"""A backing service that is down is a fast ``503 service_unavailable``, never a ``500``."""

from __future__ import annotations

import pytest
import redis.exceptions
from django.db import OperationalError
from django.db.utils import IntegrityError

from phone_auth.errors import api_exception_handler, is_outage


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("connection refused"),
        redis.exceptions.ConnectionError("Error 111 connecting"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
    ],
)
def test_an_unreachable_database_or_cache_answers_503_with_retry_after(exc: Exception) -> None:
    response = api_exception_handler(exc, {"view": None})
    assert response.status_code == 503
    assert response.data["code"] == "service_unavailable"
    assert int(response.headers["Retry-After"]) == response.data["retry_after"] >= 1


def test_a_constraint_violation_is_not_an_outage() -> None:
    assert not is_outage(IntegrityError("duplicate key"))
    assert api_exception_handler(IntegrityError("duplicate key"), {"view": None}).status_code == 500
