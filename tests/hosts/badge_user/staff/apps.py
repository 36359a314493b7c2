"""App config of the host's staff users."""

from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The host's user model."""

    name = "staff"
    default_auto_field = "django.db.models.BigAutoField"
