"""What the real providers' senders share: options, one async HTTP call, error mapping.

Each provider module only says how its request looks and how its answer tells success
from failure; timeouts, network errors and non-2xx answers become ``SmsSendError`` here,
with a text for the log that never carries a credential.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar

import certifi
import httpx
from django.core.exceptions import ImproperlyConfigured

from phone_auth.conf import app_settings
from phone_auth.sms.base import BaseSmsBackend, SmsSendError

MAX_LOGGED_CHARS = 300


@cache
def _ssl_context() -> ssl.SSLContext:
    # Building a context reads the CA bundle (tens of milliseconds): do it once per process.
    return ssl.create_default_context(cafile=certifi.where())


class HttpSmsBackend(BaseSmsBackend):
    """A sender that talks to a provider's REST API through ``httpx.AsyncClient``.

    Options come from ``PHONE_AUTH_SMS_OPTIONS``; ``<base_url_option>`` overrides the
    provider's address. ``transport`` (a constructor argument or a class attribute) replaces
    the network, which is how tests stand in for the provider.
    """

    provider: ClassVar[str]
    required_options: ClassVar[tuple[str, ...]]
    secret_options: ClassVar[tuple[str, ...]]
    base_url_option: ClassVar[str]
    default_base_url: ClassVar[str]
    transport: httpx.AsyncBaseTransport | None = None

    def __init__(
        self,
        *,
        options: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = dict(app_settings.SMS_OPTIONS if options is None else options)
        missing = [name for name in self.required_options if not self.options.get(name)]
        if missing:
            raise ImproperlyConfigured(
                f"The {self.provider} SMS sender needs {', '.join(missing)} "
                "in PHONE_AUTH_SMS_OPTIONS."
            )
        if transport is not None:
            self.transport = transport
        self.base_url = (self.options.get(self.base_url_option) or self.default_base_url).rstrip(
            "/"
        )

    def option(self, name: str) -> str:
        """A provider option (empty when unset)."""
        return str(self.options.get(name) or "")

    def redact(self, text: str) -> str:
        """``text`` shortened, with every credential value masked."""
        for name in self.secret_options:
            value = self.option(name)
            if value:
                text = text.replace(value, "***")
        return text[:MAX_LOGGED_CHARS]

    def failure(self, reason: str) -> SmsSendError:
        """The error to raise, its text prefixed with the provider and redacted."""
        return SmsSendError(self.redact(f"{self.provider}: {reason}"))

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST to the provider; return a 2xx answer or raise ``SmsSendError``."""
        timeout = app_settings.SMS_TIMEOUT
        async with httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=self.transport,
            verify=_ssl_context(),
        ) as client:
            try:
                response = await client.post(path, **kwargs)
            except httpx.TimeoutException as exc:
                raise self.failure(
                    f"no answer within {timeout:g} s ({type(exc).__name__})"
                ) from exc
            except httpx.HTTPError as exc:
                raise self.failure(f"request failed ({type(exc).__name__}: {exc})") from exc
        if not response.is_success:
            raise self.failure(f"HTTP {response.status_code}: {response.text}")
        return response

    def json_body(self, response: httpx.Response) -> dict[str, Any]:
        """The answer as a JSON object, or ``SmsSendError`` when it is not one."""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self.failure(f"answer is not JSON: {response.text}") from exc
        if not isinstance(body, dict):
            raise self.failure(f"answer is not a JSON object: {response.text}")
        return body
