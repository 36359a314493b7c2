"""The host's own admin of its users."""

from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """The host's user admin, which installing the apps must leave alone."""

    search_fields = ("email",)
