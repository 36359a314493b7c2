"""App config of the host's accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The host's user model."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
