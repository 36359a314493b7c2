"""Django admin of phone sign-in: phone accounts, sent codes (never their hashes), logins.

Records of what happened (codes, logins) are read-only; staff act on them through
actions (revoking a login). A user's phone is edited on the user's page, and
``PhoneAccountInline`` is there for host projects to add to their own user admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from phone_auth.models import LoginSession, PhoneAccount, SignInCode
from phone_auth.tokens import announce_logins_ended


class ReadOnlyAdminMixin:
    """Staff may look, never add, change or delete (records of what happened)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never: these rows go only with their user."""
        return False


class PhoneAccountInline(admin.StackedInline):
    """The user's phone on the user's page (added for a user created without one)."""

    model = PhoneAccount
    fields = ("phone", "created_at")
    readonly_fields = ("created_at",)
    can_delete = False
    extra = 0
    max_num = 1


@admin.register(PhoneAccount)
class PhoneAccountAdmin(admin.ModelAdmin):
    """Phones people sign in with; the number can be corrected, the account goes with its user."""

    list_display = ("phone", "user", "created_at")
    list_select_related = ("user",)
    search_fields = ("phone",)
    fields = ("user", "phone", "created_at")
    readonly_fields = ("user", "created_at")
    ordering = ("-user",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Phone accounts are created by signing in, or on the user's page."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Deleting the user deletes the account."""
        return False


@admin.register(SignInCode)
class SignInCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Codes sent by SMS: status and attempts only; the code's hash is never shown."""

    list_display = ("phone", "status", "attempts", "created_at", "expires_at", "used_at")
    list_filter = ("status",)
    search_fields = ("phone",)
    exclude = ("code_hash",)
    ordering = ("-id",)
    show_full_result_count = False


class OpenFilter(admin.SimpleListFilter):
    """Open or revoked logins."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        """The two states."""
        return [("open", _("open")), ("revoked", _("revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Filter by ``revoked_at``."""
        if self.value() == "open":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Logins (refresh-token families); the ``revoke`` action ends them at once."""

    list_display = ("id", "phone", "created_at", "is_open", "revoked_at", "revoke_reason")
    list_filter = (OpenFilter, "revoke_reason")
    list_select_related = ("user__phone_account",)
    search_fields = ("user__phone_account__phone",)
    ordering = ("-created_at", "-id")
    actions = ("revoke",)
    show_full_result_count = False

    @admin.display(description=_("phone"), ordering="user__phone_account__phone")
    def phone(self, obj: LoginSession) -> str:
        """The user's phone."""
        account = getattr(obj.user, "phone_account", None)
        return str(account.phone) if account else "-"

    @admin.display(description=_("open"), boolean=True)
    def is_open(self, obj: LoginSession) -> bool:
        """Not revoked."""
        return obj.revoked_at is None

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking changes sessions: staff with the change permission only."""
        return request.user.has_perm("phone_auth.change_loginsession")

    @admin.action(description=_("Revoke the selected logins"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[LoginSession]) -> None:
        """End the logins: their refresh and access tokens stop working at once."""
        open_logins = queryset.filter(revoked_at__isnull=True)
        owners = list(open_logins.values_list("user_id", flat=True).distinct())
        count = open_logins.update(revoked_at=timezone.now(), revoke_reason="admin")
        if count:
            announce_logins_ended(owners)
        self.message_user(
            request,
            ngettext("%(count)d login revoked.", "%(count)d logins revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
