"""App configs of the standalone service: its own system checks, and the admin's site."""

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ServiceConfig(AppConfig):
    """The standalone service (settings, URLs, middleware)."""

    name = "config"
    verbose_name = "Service"

    def ready(self) -> None:
        """Register the deploy checks of the middleware chain."""
        from config import checks  # noqa: F401


class StaffAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``config.admin_site.StaffAdminSite`` as ``admin.site``:
    the admin opens only after a password sign-in on its own, throttled, login page."""

    default_site = "config.admin_site.StaffAdminSite"
