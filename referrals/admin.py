"""Django admin of the referral program, and the user admin of the standalone service.

Profiles, referrals and the points ledger are read-only here: codes are given at sign-in,
referrals and points come only from activations (the ledger is append-only), so staff
look and search by phone but never edit. With ``REFERRALS_USER_ADMIN = True`` and Django's
own ``User`` model, the user admin gains the phone, invite code and points (columns,
search, inlines); otherwise the host's user admin is left as it is, and a host can add
``PhoneAccountInline`` and ``ProfileInline`` to its own.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from phone_auth.admin import PhoneAccountInline, ReadOnlyAdminMixin
from phone_auth.models import LoginSession, PhoneAccount
from referrals.conf import app_settings
from referrals.models import PointsEntry, Profile, Referral
from referrals.selectors import phone_of


class ProfileInline(ReadOnlyAdminMixin, admin.StackedInline):
    """Invite code and balance on the user's page."""

    model = Profile
    fields = ("invite_code", "points")
    can_delete = False
    verbose_name_plural = _("referral profile")


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Everyone's invite code and balance (the cached sum of their ledger)."""

    list_display = ("phone", "invite_code", "points", "referrals_count")
    list_select_related = ("user__phone_account",)
    search_fields = ("user__phone_account__phone", "invite_code")
    ordering = ("-user_id",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Profile]:
        """With the number of living referrals (a subquery: computed for the shown page only)."""
        living = (
            Referral.objects.filter(inviter=OuterRef("user_id"), invitee__isnull=False)
            .order_by()
            .values("inviter")
            .annotate(total=Count("id"))
            .values("total")
        )
        return super().get_queryset(request).annotate(referrals_total=Coalesce(Subquery(living), 0))

    @admin.display(description=_("phone"), ordering="user__phone_account__phone")
    def phone(self, obj: Profile) -> str | None:
        """The user's phone."""
        return phone_of(obj.user)

    @admin.display(description=_("referrals"), ordering="referrals_total")
    def referrals_count(self, obj: Profile) -> int:
        """How many users activated this code."""
        return int(getattr(obj, "referrals_total", 0))


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who invited whom, with which code and when."""

    list_display = ("inviter_phone", "invitee_phone", "invite_code", "created_at")
    list_select_related = ("inviter__phone_account", "invitee__phone_account")
    search_fields = (
        "inviter__phone_account__phone",
        "invitee__phone_account__phone",
        "invite_code",
    )
    ordering = ("-id",)
    show_full_result_count = False

    @admin.display(description=_("inviter"), ordering="inviter__phone_account__phone")
    def inviter_phone(self, obj: Referral) -> str | None:
        """The code's owner (empty once deleted)."""
        return phone_of(obj.inviter)

    @admin.display(description=_("invitee"), ordering="invitee__phone_account__phone")
    def invitee_phone(self, obj: Referral) -> str | None:
        """Who activated the code (empty once deleted)."""
        return phone_of(obj.invitee)


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only points ledger."""

    list_display = ("phone", "amount", "reason", "created_at")
    list_filter = ("reason",)
    list_select_related = ("user__phone_account",)
    search_fields = ("user__phone_account__phone",)
    ordering = ("-id",)
    show_full_result_count = False

    @admin.display(description=_("phone"), ordering="user__phone_account__phone")
    def phone(self, obj: PointsEntry) -> str | None:
        """Whose entry this is."""
        return phone_of(obj.user)


class PhoneUserAdmin(UserAdmin):
    """Django's user admin with the phone, invite code and points, searchable by phone."""

    inlines = (PhoneAccountInline, ProfileInline)
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
    # Rows that exist only as part of a user: the right to delete the user covers them,
    # though staff can never delete them on their own.
    deleted_with_user = (PhoneAccount, Profile, PointsEntry, LoginSession)

    @admin.display(description=_("phone"), ordering="phone_account__phone")
    def phone(self, obj: Any) -> str | None:
        """E.164 phone."""
        return phone_of(obj)

    @admin.display(description=_("invite code"), ordering="referral_profile__invite_code")
    def invite_code(self, obj: Any) -> str | None:
        """The user's own code."""
        profile = getattr(obj, "referral_profile", None)
        return profile.invite_code if profile else None

    @admin.display(description=_("points"), ordering="referral_profile__points")
    def points(self, obj: Any) -> int:
        """Balance."""
        profile = getattr(obj, "referral_profile", None)
        return int(profile.points) if profile else 0

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        """Deleting a user takes their phone, profile, ledger and logins along."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        following = {str(model._meta.verbose_name) for model in self.deleted_with_user}
        return deleted, counts, {p for p in perms_needed if str(p) not in following}, protected


if app_settings.USER_ADMIN and get_user_model() is User:
    if admin.site.is_registered(User):
        admin.site.unregister(User)
    admin.site.register(User, PhoneUserAdmin)
