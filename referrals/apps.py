"""App config of the referral program."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    """Referral program app."""

    name = "referrals"
    verbose_name = _("Referrals")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the API's OpenAPI description and the profile cache's receivers."""
        from referrals import profile_cache, schema  # noqa: F401

        profile_cache.connect_user_model()
