"""Django admin of the referral program, and pieces a host's own user admin can opt into.

Profiles, referrals and the points ledger are read-only here: codes are given at sign-in,
referrals and points come only from activations (the ledger is append-only), so staff
look and search by phone but never edit. This module never touches the user admin: a
host that wants the phone, invite code and points there puts ``ReferralUserAdminMixin``
first among its user admin's bases (the standalone service does so in
``config/admin.py``), or adds ``PhoneAccountInline`` and ``ProfileInline`` by hand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from phone_auth.admin import PhoneAccountInline, ReadOnlyAdminMixin
from phone_auth.models import LoginSession, PhoneAccount
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


class ReferralUserAdminMixin(admin.ModelAdmin):
    """For a host's own user admin: the phone, invite code and points of each user.

    Put it first among the bases (``class UserAdmin(ReferralUserAdminMixin, UserAdmin)``):
    it adds to what the admin declares, never replaces it. The list gains phone, invite
    code and points columns (read-only) and a search by phone, the user's page the phone
    and the referral profile, and deleting a user takes their phone, profile, ledger and
    logins along, which staff can never delete on their own.
    """

    referral_columns = ("phone", "invite_code", "points")
    phone_search_field = "phone_account__phone"
    # Rows that exist only as part of a user: the right to delete the user covers them.
    deleted_with_user = (PhoneAccount, Profile, PointsEntry, LoginSession)

    def get_list_display(self, request: HttpRequest) -> Any:
        """The admin's own columns, then those of the phone, invite code and points it lacks."""
        columns = tuple(super().get_list_display(request))
        return (*columns, *(name for name in self.referral_columns if name not in columns))

    def get_search_fields(self, request: HttpRequest) -> Any:
        """The admin's own search fields and the phone."""
        fields = tuple(super().get_search_fields(request))
        return fields if self.phone_search_field in fields else (*fields, self.phone_search_field)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        """The admin's own inlines, then the phone and the referral profile."""
        inlines = tuple(super().get_inlines(request, obj))
        return (*inlines, *(i for i in (PhoneAccountInline, ProfileInline) if i not in inlines))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """Users with their phone and profile in the same query."""
        return super().get_queryset(request).select_related("phone_account", "referral_profile")

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
