"""Log records a client can cause cheaply become one warning line, without a traceback.

A request with a bad ``Host`` header, a malformed body, or one that meets an unreachable
database or cache costs the client nothing; a 20-line traceback for each would let anyone
flood the log (and bury real errors). Such records keep their message and the exception's
type and first line, at ``WARNING``.
"""

from __future__ import annotations

import logging

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError

from phone_auth.errors import is_outage

MAX_MESSAGE = 500


def is_cheap(exc: BaseException) -> bool:
    """Whether ``exc`` is something a client (or an outage) causes, not a bug to trace."""
    return isinstance(exc, SuspiciousOperation | BadRequest | MultiPartParserError) or is_outage(
        exc
    )


class OneLineFilter(logging.Filter):
    """Strip the traceback of cheap records and log them at ``WARNING``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or not is_cheap(exc):
            return True
        message = record.getMessage()
        detail = str(exc).splitlines()[0] if str(exc) else ""
        if detail and detail not in message:
            message = f"{message} ({type(exc).__name__}: {detail})"
        elif type(exc).__name__ not in message:
            message = f"{message} ({type(exc).__name__})"
        record.msg = message.replace("\n", " ")[:MAX_MESSAGE]
        record.args = None
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
        return True
