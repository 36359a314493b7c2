"""Other settings, load and failures: SMS latency never holds the server, ``AUTH_RATE_LIMITS
=off`` lifts the budgets but not the per-code attempts, code settings are honoured, a
failing SMS provider is ``503 sms_unavailable``, and a missing cache shows in ``/healthz``
as ``503`` and in the API as a fast JSON ``503 service_unavailable``, never a trace.
"""

from __future__ import annotations

import re
import secrets
import time

import httpx

from tests.service.conftest import BENCH_CODE_LENGTH, BENCH_MAX_ATTEMPTS, PROVIDER_SECRET
from tests.service.support import (
    CYRILLIC,
    INVITE_ALPHABET,
    TIMEOUT,
    Api,
    Service,
    assert_invalid_input,
    in_parallel,
    new_ip,
    new_phone,
)
from tests.support import assert_error

IN_FLIGHT = 60


def test_many_sends_are_in_flight_at_once_on_one_process(bench_service: Service) -> None:
    racers = [Api(bench_service, new_ip()) for _ in range(IN_FLIGHT)]
    try:
        started = time.monotonic()
        answers = in_parallel(IN_FLIGHT, lambda i: racers[i].send_code(new_phone()))
        elapsed = time.monotonic() - started
    finally:
        for racer in racers:
            racer.close()
    assert [answer.status_code for answer in answers] == [200] * IN_FLIGHT
    # One after another, sixty sends of 1-2 s each would take 60-120 s; a handful of
    # worker threads would still need ten or more rounds of at least a second each.
    assert elapsed < 8, f"{IN_FLIGHT} sends took {elapsed:.1f} s"


def test_other_requests_are_answered_while_sends_wait(bench_service: Service) -> None:
    racers = [Api(bench_service, new_ip()) for _ in range(IN_FLIGHT + 1)]
    probe_took: list[float] = []

    def run(index: int) -> httpx.Response:
        if index < IN_FLIGHT:
            return racers[index].send_code(new_phone())
        time.sleep(0.3)  # the sends are now waiting on the simulated provider
        started = time.monotonic()
        answer = racers[index].get("/healthz")
        probe_took.append(time.monotonic() - started)
        return answer

    try:
        answers = in_parallel(IN_FLIGHT + 1, run)
    finally:
        for racer in racers:
            racer.close()
    assert answers[-1].status_code == 200
    # Behind sixty sends that each held a thread, a small pool would keep it waiting for
    # several rounds of 1-2 s.
    assert probe_took[0] < 2.5, f"/healthz took {probe_took[0]:.2f} s while sends waited"


def test_rate_limits_off_lifts_the_ip_budget(bench_service: Service) -> None:
    ip = new_ip()
    racers = [Api(bench_service, ip) for _ in range(35)]
    try:
        answers = in_parallel(len(racers), lambda i: racers[i].send_code(new_phone()))
    finally:
        for racer in racers:
            racer.close()
    assert [answer.status_code for answer in answers] == [200] * 35


def test_rate_limits_off_lifts_the_activation_limit(bench_service: Service) -> None:
    api = Api(bench_service)
    try:
        access = api.sign_in(new_phone())["access"]
        for _ in range(60):
            answer = api.activate(
                access, "".join(secrets.choice(INVITE_ALPHABET) for _ in range(6))
            )
            assert_error(answer, 404, "invite_code_not_found")
    finally:
        api.close()


def test_rate_limits_off_keeps_the_per_code_attempts(bench_service: Service) -> None:
    api = Api(bench_service)
    phone = new_phone()
    try:
        code = api.new_code(phone)
        wrong = f"{(int(code) + 1) % 10**BENCH_CODE_LENGTH:0{BENCH_CODE_LENGTH}d}"
        first = assert_error(api.verify(phone, wrong), 400, "invalid_code")
        assert first["attempts_left"] == BENCH_MAX_ATTEMPTS - 1
        for _ in range(BENCH_MAX_ATTEMPTS - 1):
            assert api.verify(phone, wrong).status_code in (400, 429)
        assert_error(api.verify(phone, code), 429, "too_many_attempts")
    finally:
        api.close()


def test_code_length_follows_the_setting(bench_service: Service) -> None:
    api = Api(bench_service)
    phone = new_phone()
    try:
        sent = api.send_code(phone)
        assert sent.status_code == 200, sent.text
        assert sent.json()["code_length"] == BENCH_CODE_LENGTH
        code = sent.json()["debug_code"]
        assert re.fullmatch(rf"\d{{{BENCH_CODE_LENGTH}}}", code)
        assert_invalid_input(api.verify(phone, code[:4]), "code")
        assert api.verify(phone, code).status_code == 200
    finally:
        api.close()


def test_health_names_the_missing_cache(cacheless_service: Service) -> None:
    answer = httpx.get(f"{cacheless_service.base_url}/healthz", timeout=TIMEOUT)
    assert answer.status_code == 503
    body = answer.json()
    assert body["database"] == "ok"
    assert body["cache"] != "ok"
    assert body["status"] != "ok"


def test_sms_provider_failure_is_503_sms_unavailable(failing_sms_service: Service) -> None:
    for language, alphabet in (("en", None), ("ru", CYRILLIC)):
        answer = httpx.post(
            f"{failing_sms_service.base_url}/api/v1/auth/send-code/",
            json={"phone": new_phone()},
            headers={"Accept-Language": language, "X-Forwarded-For": new_ip()},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        body = answer.json()
        assert body["code"] == "sms_unavailable"
        assert body["detail"]
        if alphabet is not None:
            assert alphabet.search(body["detail"]), body
        for leak in ("twilio", "proxy", "connecterror", PROVIDER_SECRET.lower(), "traceback"):
            assert leak not in answer.text.lower(), answer.text


def test_a_missing_cache_is_a_fast_json_503_without_a_trace(cacheless_service: Service) -> None:
    started = time.monotonic()
    answer = httpx.post(
        f"{cacheless_service.base_url}/api/v1/auth/send-code/",
        json={"phone": new_phone()},
        timeout=TIMEOUT,
    )
    assert time.monotonic() - started < 3
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["code"] == "service_unavailable"
    assert int(answer.headers["Retry-After"]) == body["retry_after"] >= 1
    assert body["detail"]
    assert "Traceback" not in answer.text
    assert "redis" not in answer.text.lower()
