"""send-code's front door: the everyday request skips DRF's cycle, and answers as DRF does.

The front door (``SendCodeApi.as_view``) takes a UTF-8 JSON object holding only a valid
``phone``; everything else goes to DRF's view (``full_way``), which gives the contract's
exact errors. Where both answer, the answers are the same, byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponseBase
from django.test import RequestFactory

from phone_auth.api import SendCodeApi, _plain_phone

ROUTE = "/api/v1/auth/send-code/"
VIEW: Any = SendCodeApi.as_view()


def post(body: bytes, content_type: str = "application/json") -> Any:
    return RequestFactory().generic("POST", ROUTE, data=body, content_type=content_type)


def answer(view: Any, phone: str) -> HttpResponseBase:
    response: Any = async_to_sync(view)(post(json.dumps({"phone": phone}).encode()))
    if hasattr(response, "render"):
        response.render()  # DRF's answer, as Django's handler renders it
    return response


@pytest.mark.parametrize(
    ("body", "content_type", "phone"),
    [
        (b'{"phone": "+7 911 000-00-01"}', "application/json", "+79110000001"),
        (b'{"phone": "89110000001"}', "application/json; charset=utf-8", "+79110000001"),
        (b'{"phone": "+79110000001", "extra": 1}', "application/json", None),
        (b'{"phone": 79110000001}', "application/json", None),
        (b'{"phone": "+7 800 555-35-35"}', "application/json", None),  # toll-free: refused
        (b'{"phone": "not a phone"}', "application/json", None),
        (b'["+79110000001"]', "application/json", None),
        (b'{"phone": "+79110000001"', "application/json", None),
        ('{"phone": "+79110000001"}'.encode("utf-16"), "application/json; charset=utf-16", None),
        (b"phone=%2B79110000001", "application/x-www-form-urlencoded", None),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", None),
    ],
)
def test_only_the_everyday_body_takes_the_front_door(body, content_type, phone):
    assert _plain_phone(post(body, content_type)) == phone


def comparable(response: HttpResponseBase) -> tuple[int, dict[str, str], dict[str, Any]]:
    body = json.loads(response.content)
    body.pop("phone", None)
    body.pop("debug_code", None)
    return response.status_code, dict(response.headers), body


@pytest.mark.django_db
def test_a_sent_code_is_answered_as_drf_answers_it(sms_outbox):
    front, drf = answer(VIEW, "+79110000011"), answer(VIEW.full_way, "+79110000012")

    assert front.status_code == 200
    assert comparable(front) == comparable(drf)
    assert json.loads(front.content)["phone"] == "+79110000011"
    assert len(sms_outbox) == 2


@pytest.mark.django_db
def test_a_refused_send_is_answered_as_drf_answers_it(sms_outbox):
    answer(VIEW, "+79110000021")
    answer(VIEW.full_way, "+79110000022")

    front, drf = answer(VIEW, "+79110000021"), answer(VIEW.full_way, "+79110000022")

    assert front.status_code == 429
    assert front.content == drf.content
    assert dict(front.headers) == dict(drf.headers)
    assert front["Retry-After"]
