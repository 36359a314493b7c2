"""The standalone service's admin of its users: Django's own user admin with the phone,
invite code and points, searchable by phone (``referrals.admin.ReferralUserAdminMixin``,
which the reusable app offers and never registers itself).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from referrals.admin import ReferralUserAdminMixin

admin.site.unregister(User)


@admin.register(User)
class PhoneUserAdmin(ReferralUserAdminMixin, UserAdmin):
    """Django's user admin with the phone, invite code and points."""

    list_display = (
        "id",
        "phone",
        "invite_code",
        "points",
        "first_name",
        "last_name",
        "is_staff",
        "date_joined",
    )
    list_select_related = ("phone_account", "referral_profile")
    search_fields = ("phone_account__phone", "username", "first_name", "last_name", "email")
    ordering = ("-id",)
    show_full_result_count = False
