"""Phone-number sign-in: one-time SMS codes, SMS senders, JWT login sessions and the auth API."""

__version__ = "1.0.0"
