"""Django's user plus a badge number: unique, required, no default."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Every user carries a distinct badge number the host assigns."""

    badge = models.PositiveIntegerField(unique=True)
