"""Web UI for people: Django-template pages over the same services as the API."""

from phone_auth import __version__

__all__ = ["__version__"]
