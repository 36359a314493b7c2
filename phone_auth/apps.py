"""App config: registers the system checks and says so in the log when codes are exposed."""

import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("phone_auth")


class PhoneAuthConfig(AppConfig):
    """Phone sign-in app."""

    name = "phone_auth"
    verbose_name = _("Phone sign-in")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register system checks and the API's OpenAPI description; warn once when every
        client is handed its code."""
        from phone_auth import checks, schema  # noqa: F401
        from phone_auth.conf import LOOPBACK, app_settings

        if app_settings.EXPOSE_CODES and app_settings.EXPOSE_CODES != LOOPBACK:
            logger.warning(
                "DEMO MODE: send-code hands its code (debug_code) to EVERY client "
                "(PHONE_AUTH_EXPOSE_CODES = True): anyone who can reach this service can sign in "
                "as any phone."
            )
