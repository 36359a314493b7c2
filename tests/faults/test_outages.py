"""The service (two workers) while its own PostgreSQL and Redis stop, crash and come back.

What must hold: a request that needs the missing service is a ``503 service_unavailable``
with ``Retry-After`` within 3 s (JSON for the API, a page for the web UI and the admin),
``/healthz`` names what is down within 2 s, ``/livez`` keeps answering; once the service is
back, the first request succeeds within 5 s and at most one request per worker fails on a
dead pooled connection; nothing is half-applied (every activation has both ledger entries).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.faults.support import (
    Stack,
    assert_unavailable,
    in_parallel,
    running_stack,
    timed,
)
from tests.live_service import manage

WORKERS = 2
UNAVAILABLE_WITHIN = 3.0
HEALTHZ_WITHIN = 2.0
RECOVERED_WITHIN = 5.0
# Thresholds are what the contract promises; the work under them is far shorter, so a busy
# machine does not make them flaky.


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The service on its own PostgreSQL and Redis, two workers.

    No profile answer is kept (``referrals.profile_cache``), so every profile read here
    needs the database; ``test_a_kept_profile_rides_out_both_outages`` has them kept.
    """
    with running_stack(REFERRALS_PROFILE_CACHE_TTL="0") as running:
        yield running


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access']}"}


def assert_healthz(client: httpx.Client, database: str, cache: str) -> None:
    answer, took = timed(lambda: client.get("/healthz"))
    assert took < HEALTHZ_WITHIN, f"/healthz took {took:.2f} s"
    assert answer.json() == {
        "status": "ok" if database == cache == "ok" else "down",
        "database": database,
        "cache": cache,
    }
    assert answer.status_code == (200 if database == cache == "ok" else 503)


def assert_livez(client: httpx.Client) -> None:
    answer, took = timed(lambda: client.get("/livez"))
    assert answer.status_code == 200
    assert took < 1.0


def warm_pools(stack: Stack, headers: dict[str, str]) -> None:
    """Fill every worker's pool with several connections (parallel reads)."""
    with stack.client(limits=httpx.Limits(max_connections=24)) as client:
        answers = in_parallel(24, lambda _i: client.get("/api/v1/profile/", headers=headers))
    assert {answer.status_code for answer in answers} == {200}


def failures_after_recovery(stack: Stack, client: httpx.Client, headers: dict[str, str]) -> int:
    """Send one request after another until ten in a row succeed; the failures on the way."""
    failures = 0
    in_a_row = 0
    deadline = time.monotonic() + 30
    while in_a_row < 10:
        assert time.monotonic() < deadline, stack.log_text()[-3000:]
        answer = client.get("/api/v1/profile/", headers=headers)
        if answer.status_code == 200:
            in_a_row += 1
        else:
            assert answer.status_code == 503, answer.text
            failures += 1
            in_a_row = 0
    return failures


def test_database_away_is_a_fast_503_and_the_service_recovers_by_itself(stack: Stack) -> None:
    # A new connection per request, so both workers are asked.
    client = stack.client(limits=httpx.Limits(max_keepalive_connections=0))
    tokens = stack.sign_in(client)
    headers = bearer(tokens)
    warm_pools(stack, headers)

    stack.postgres.stop("fast")
    try:
        send, took = timed(
            lambda: client.post("/api/v1/auth/send-code/", json={"phone": stack.new_phone()})
        )
        assert_unavailable(send, took, UNAVAILABLE_WITHIN)
        profile, took = timed(lambda: client.get("/api/v1/profile/", headers=headers))
        assert_unavailable(profile, took, UNAVAILABLE_WITHIN)
        # A web page that needs the session store: a clear page, not JSON and not a 500.
        session = {"Cookie": "sessionid=" + "x" * 32}
        page, took = timed(lambda: client.get("/admin/", headers=session))
        assert_unavailable(page, took, UNAVAILABLE_WITHIN)
        assert page.headers["Content-Type"].startswith("text/html")
        assert "temporarily unavailable" in page.text
        assert_healthz(client, database="down", cache="ok")
        assert_livez(client)
    finally:
        stack.postgres.start()

    first, took = timed(lambda: client.get("/api/v1/profile/", headers=headers))
    assert first.status_code == 200, first.text
    assert took < RECOVERED_WITHIN, f"the first request after the outage took {took:.2f} s"
    assert_healthz(client, database="ok", cache="ok")

    # An idle service whose database restarts: its pools hold only dead connections now.
    warm_pools(stack, headers)
    stack.postgres.stop("immediate")
    stack.postgres.start()
    restarted = time.monotonic()
    assert failures_after_recovery(stack, client, headers) <= WORKERS
    assert time.monotonic() - restarted < RECOVERED_WITHIN + 10 * 1.0
    log = stack.log_text()
    assert "Traceback" not in log, log[-3000:]
    client.close()


def test_a_database_crash_mid_traffic_half_applies_nothing(stack: Stack) -> None:
    client = stack.client(limits=httpx.Limits(max_connections=32))
    inviter = stack.sign_in(client)
    invite_code = client.get("/api/v1/profile/", headers=bearer(inviter)).json()["invite_code"]
    invitees = [stack.sign_in(client) for _ in range(24)]
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def activate(index: int) -> int:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            try:
                answer = client.post(
                    "/api/v1/profile/invite/",
                    json={"invite_code": invite_code},
                    headers=bearer(invitees[index]),
                )
            except httpx.HTTPError as exc:  # a reset or a refused connection: never
                with lock:
                    errors.append(repr(exc))
                return -1
            with lock:
                statuses[answer.status_code] += 1
            if answer.status_code == 503:
                assert answer.json()["code"] == "service_unavailable"
                time.sleep(0.2)
                continue
            return answer.status_code
        return 0

    def crash_and_restart() -> None:
        time.sleep(0.05)  # the activations are under way
        stack.postgres.stop("immediate")
        time.sleep(1.0)
        stack.postgres.start()

    chaos = threading.Thread(target=crash_and_restart)
    chaos.start()
    try:
        outcome = in_parallel(len(invitees), activate)
    finally:
        chaos.join()
    # Each activation was retried after a 503 until the database was back: it either
    # happened (200) or had happened already (409); never a 500, never a reset.
    assert errors == []
    assert set(outcome) <= {200, 409}, (outcome, statuses)
    assert set(statuses) <= {200, 409, 503}, statuses

    referrals = stack.postgres.query(
        "SELECT r.id, count(p.id) FROM referrals_referral r "
        "LEFT JOIN referrals_pointsentry p ON p.referral_id = r.id GROUP BY r.id"
    )
    assert len(referrals) == len(invitees)
    assert all(entries == 2 for _id, entries in referrals), referrals
    inviter_points = client.get("/api/v1/profile/", headers=bearer(inviter)).json()["points"]
    assert inviter_points == 200 * len(invitees)
    manage(stack.env, "check_points")  # every cached balance equals its ledger
    client.close()


def test_cache_away_is_a_fast_503_and_the_service_recovers_by_itself(stack: Stack) -> None:
    client = stack.client(limits=httpx.Limits(max_keepalive_connections=0))

    def send() -> httpx.Response:
        return client.post("/api/v1/auth/send-code/", json={"phone": stack.new_phone()})

    warm = in_parallel(8, lambda _i: send())
    assert {answer.status_code for answer in warm} == {200}

    stack.redis.stop()
    try:
        answer, took = timed(send)
        assert_unavailable(answer, took, UNAVAILABLE_WITHIN)
        assert_healthz(client, database="ok", cache="down")
        assert_livez(client)
    finally:
        stack.redis.start()

    first, took = timed(send)
    assert first.status_code == 200, first.text
    assert took < RECOVERED_WITHIN
    assert_healthz(client, database="ok", cache="ok")

    # A Redis that hangs (stopped, its connections open): the timeouts answer, not a hang.
    in_parallel(8, lambda _i: send())
    redis_process = stack.redis.process
    assert redis_process is not None
    redis_process.send_signal(signal.SIGSTOP)
    try:
        answer, took = timed(send)
        assert_unavailable(answer, took, UNAVAILABLE_WITHIN)
        assert_healthz(client, database="ok", cache="down")
        assert_livez(client)
    finally:
        redis_process.send_signal(signal.SIGCONT)
    answer, took = timed(send)
    assert answer.status_code == 200, answer.text
    assert took < RECOVERED_WITHIN

    # Redis restarts under an idle service: its pooled connections are dead.
    in_parallel(8, lambda _i: send())
    stack.redis.stop()
    stack.redis.start()
    failures = 0
    for _ in range(20):
        answer = send()
        if answer.status_code != 200:
            assert answer.status_code == 503, answer.text
            failures += 1
    assert failures <= WORKERS
    assert "Traceback" not in stack.log_text()
    client.close()


def test_a_kept_profile_rides_out_both_outages() -> None:
    with running_stack() as kept:
        client = kept.client(limits=httpx.Limits(max_keepalive_connections=0))
        read, unread = bearer(kept.sign_in(client)), bearer(kept.sign_in(client))
        warm_pools(kept, bearer(kept.sign_in(client)))  # both workers, as in production
        body = client.get("/api/v1/profile/", headers=read).json()

        kept.postgres.stop("fast")
        try:
            # Nobody can change it while the database is away: the kept answer stands.
            answer, took = timed(lambda: client.get("/api/v1/profile/", headers=read))
            assert (answer.status_code, answer.json()) == (200, body)
            assert took < UNAVAILABLE_WITHIN
            answer, took = timed(lambda: client.get("/api/v1/profile/", headers=unread))
            assert_unavailable(answer, took, UNAVAILABLE_WITHIN)
        finally:
            kept.postgres.start()

        # Redis away, then hanging: the profile is read from the database, in time. The
        # database is just back, so a worker may meet one dead pooled connection first.
        kept.redis.stop()
        try:
            for headers in (read, unread):
                for _attempt in range(WORKERS + 1):
                    answer, took = timed(
                        lambda h=headers: client.get("/api/v1/profile/", headers=h)
                    )
                    assert took < UNAVAILABLE_WITHIN
                    if answer.status_code != 503:
                        break
                assert answer.status_code == 200, answer.text
        finally:
            kept.redis.start()
        client.get("/api/v1/profile/", headers=read)
        redis_process = kept.redis.process
        assert redis_process is not None
        redis_process.send_signal(signal.SIGSTOP)
        try:
            answer, took = timed(lambda: client.get("/api/v1/profile/", headers=read))
            assert (answer.status_code, answer.json()) == (200, body)
            assert took < UNAVAILABLE_WITHIN
        finally:
            redis_process.send_signal(signal.SIGCONT)
        assert "Traceback" not in kept.log_text()
        client.close()
