"""The host's own admin of its users, with the phone, invite code and points the README's
lines add (the block between the rulers is the README's, copied literally)."""

from django.contrib import admin

from accounts.models import User

# ---- README: user admin ----
from referrals.admin import ReferralUserAdminMixin


@admin.register(User)
class UserAdmin(ReferralUserAdminMixin, admin.ModelAdmin):
    search_fields = ("email",)  # your admin's own options stay; the mixin adds the phone


# ---- README: user admin ----
