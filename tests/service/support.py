"""A black-box client of the running service and the checks every test of it shares.

Everything here speaks HTTP only: the service under test is a separate process, started by
``conftest.py`` the way a user starts it, and these helpers know nothing of its code.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.support import assert_error

INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITE_CODE = re.compile(f"[{INVITE_ALPHABET}]{{6}}")
E164_RU = re.compile(r"\+7\d{10}")
PROFILE_FIELDS = {
    "id",
    "phone",
    "invite_code",
    "activated_invite_code",
    "inviter_phone",
    "referrals",
    "referrals_count",
    "points",
    "first_name",
    "last_name",
    "email",
    "date_joined",
}
CYRILLIC = re.compile("[\u0400-\u04ff]")
TIMEOUT = 30.0
STAFF_PHONE = "+79990000001"
JSON_PREFIXES = ("/api/v1/", "/.well-known/", "/healthz")

_used_phones: set[str] = set()
_used_ips: set[str] = set()
_unique_lock = threading.Lock()


def new_phone() -> str:
    """A valid Russian mobile number in E.164 that no other test of this process uses."""
    with _unique_lock:
        while True:
            phone = f"+7911{secrets.randbelow(10**7):07d}"
            if phone not in _used_phones:
                _used_phones.add(phone)
                return phone


def new_ip() -> str:
    """A client address no other test of this process uses (sent as X-Forwarded-For)."""
    with _unique_lock:
        while True:
            ip = "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))
            if ip not in _used_ips:
                _used_ips.add(ip)
                return ip


@dataclass
class Service:
    """One running instance of the service: its address, log file and environment."""

    base_url: str
    log: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] = field(repr=False)

    def state(self) -> str:
        """Whether the process still runs, and the end of its log: for failure messages."""
        code = self.process.poll()
        status = "running" if code is None else f"exited with {code}"
        tail = self.log.read_text(errors="replace").splitlines()[-40:]
        return f"service {self.base_url} {status}; log tail:\n" + "\n".join(tail)

    def log_size(self) -> int:
        """Where the server log ends now; pass it to ``code_from_log`` to see only later lines."""
        return self.log.stat().st_size

    def sms_lines(self, phone: str, offset: int = 0) -> list[str]:
        """Log lines from ``offset`` on that mention ``phone`` (the console sender writes one
        per SMS, with the E.164 phone and the text)."""
        with self.log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [line for line in text.splitlines() if phone in line]

    def code_from_log(self, phone: str, offset: int = 0, length: int = 4) -> str:
        """The code of the last SMS logged for ``phone`` (E.164) after ``offset``, waiting for
        the line to appear."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for line in reversed(self.sms_lines(phone, offset)):
                text = line.split(phone, 1)[1]
                match = re.search(rf"(?<!\d)\d{{{length}}}(?!\d)", text)
                if match:
                    return match.group(0)
            if time.monotonic() > deadline:
                raise AssertionError(f"no SMS line for {phone} in the server log")
            time.sleep(0.05)


class Api:
    """An HTTP client of one service, seen from one client IP address."""

    def __init__(self, service: Service, ip: str | None = None) -> None:
        self.service = service
        self.ip = ip or new_ip()
        self.http = httpx.Client(
            base_url=service.base_url,
            timeout=TIMEOUT,
            headers={"X-Forwarded-For": self.ip},
        )

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        language: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        extra = dict(headers or {})
        if token is not None:
            extra["Authorization"] = f"Bearer {token}"
        if language is not None:
            extra["Accept-Language"] = language
        try:
            response = self.http.request(method, path, json=json, headers=extra, **kwargs)
        except httpx.TransportError as exc:
            raise AssertionError(f"{method} {path}: {exc!r}\n{self.service.state()}") from exc
        assert response.status_code < 500, (
            f"{method} {path}: {response.status_code}\n{response.text}\n{self.service.state()}"
        )
        if response.url.path.startswith(JSON_PREFIXES) and response.content:
            assert response.headers.get("content-type", "").startswith("application/json"), (
                f"{method} {path}: {response.headers.get('content-type')}"
            )
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json, **kwargs)

    def send_code(self, phone: str) -> httpx.Response:
        return self.post("/api/v1/auth/send-code/", {"phone": phone})

    def verify(self, phone: str, code: str) -> httpx.Response:
        return self.post("/api/v1/auth/verify-code/", {"phone": phone, "code": code})

    def new_code(self, phone: str) -> str:
        """Request a code for ``phone`` and return it: ``debug_code`` in demo mode, else the
        console sender's log line."""
        offset = self.service.log_size()
        sent = self.send_code(phone)
        assert sent.status_code == 200, sent.text
        body = sent.json()
        if "debug_code" in body:
            return str(body["debug_code"])
        return self.service.code_from_log(body["phone"], offset)

    def sign_in(self, phone: str) -> dict[str, Any]:
        """Sign ``phone`` in; the verify-code answer."""
        code = self.new_code(phone)
        verified = self.verify(phone, code)
        assert verified.status_code == 200, verified.text
        return dict(verified.json())

    def profile(self, token: str) -> dict[str, Any]:
        answer = self.get("/api/v1/profile/", token=token)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def activate(self, token: str, code: str) -> httpx.Response:
        return self.post("/api/v1/profile/invite/", {"invite_code": code}, token=token)

    def refresh(self, refresh: str) -> httpx.Response:
        return self.post("/api/v1/auth/token/refresh/", {"refresh": refresh})

    def pages(self, path: str, token: str) -> Iterator[dict[str, Any]]:
        """Every page of a cursor-paged list, following ``next``."""
        url: str | None = path
        while url is not None:
            answer = self.get(url, token=token)
            assert answer.status_code == 200, answer.text
            page = dict(answer.json())
            yield page
            url = page["next"]


def assert_invalid_input(response: httpx.Response, *fields: str) -> dict[str, Any]:
    """``400 invalid_input`` whose ``fields`` names each of ``fields`` with messages."""
    body = assert_error(response, 400, "invalid_input")
    assert isinstance(body.get("fields"), dict), body
    assert body["fields"], body
    for name in fields:
        messages = body["fields"].get(name)
        assert isinstance(messages, list), body
        assert messages, body
        assert all(isinstance(message, str) and message for message in messages), body
    return body


def assert_utc_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp in UTC."""
    assert isinstance(value, str), value
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0), value
    return moment


def jwt_part(token: str, index: int) -> dict[str, Any]:
    """The header (0) or payload (1) of a JWT, decoded without verification."""
    parts = token.split(".")
    assert len(parts) == 3, token
    chunk = parts[index] + "=" * (-len(parts[index]) % 4)
    return dict(json.loads(base64.urlsafe_b64decode(chunk)))


def in_parallel(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """Run ``call(i)`` in ``count`` threads released at the same moment; their answers."""
    barrier = threading.Barrier(count)
    answers: list[httpx.Response | BaseException | None] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            answers[index] = call(index)
        except BaseException as exc:  # re-raised in the test's thread below
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    results = []
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
        assert answer is not None, "a request thread did not finish"
        results.append(answer)
    return results
