"""Development sender: waits like a real provider would, then shows the SMS to the developer.

The line goes to the ``phone_auth.sms`` logger at INFO when that logger would show it
(the standalone service's logging does); otherwise (a fresh project, whose logging shows
no INFO of third-party apps) it is printed to standard output, the way Django's console
email backend prints mail, so the code is never lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys

from phone_auth.conf import app_settings
from phone_auth.sms.base import BaseSmsBackend, SmsMessage

logger = logging.getLogger("phone_auth.sms")


class ConsoleSmsBackend(BaseSmsBackend):
    """Shows ``SMS to <phone>: <text>`` after the simulated latency (``PHONE_AUTH_SMS_DELAY``)."""

    async def send(self, message: SmsMessage) -> None:
        """Sleep on the event loop (no thread is held), then log or print one line."""
        low, high = app_settings.SMS_DELAY
        if high > 0:
            await asyncio.sleep(random.uniform(low, high))  # noqa: S311 - latency, not secrets
        if logger.isEnabledFor(logging.INFO) and logger.hasHandlers():
            logger.info("SMS to %s: %s", message.phone, message.text)
        else:
            sys.stdout.write(f"SMS to {message.phone}: {message.text}\n")
            sys.stdout.flush()
