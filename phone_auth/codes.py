"""The one place that reads what a person typed as a sign-in code.

The API's ``CodeField`` and the web UI's code form both call ``normalize_code``, so a
code is accepted by the pages exactly when the API accepts it.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from phone_auth.conf import app_settings

INVALID_CODE = _("Enter the %(length)s-digit code from the SMS.")


def normalize_code(raw: object) -> str:
    """Exactly ``CODE_LENGTH`` ASCII digits (surrounding spaces trimmed), or ``ValidationError``."""
    length = app_settings.CODE_LENGTH
    if not isinstance(raw, str) or not re.fullmatch(rf"[0-9]{{{length}}}", raw.strip(), re.ASCII):
        raise ValidationError(str(INVALID_CODE) % {"length": length}, code="invalid")
    return raw.strip()
