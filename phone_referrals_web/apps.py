"""App config of the web UI."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PhoneReferralsWebConfig(AppConfig):
    """Web UI app."""

    name = "phone_referrals_web"
    label = "phone_referrals_web"
    verbose_name = _("Web UI")
