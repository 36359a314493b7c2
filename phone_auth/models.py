"""Data of phone sign-in: who owns a phone, the codes sent to it and login sessions.

The user model stays the host project's: a phone lives in ``PhoneAccount``, linked one to
one to whatever ``AUTH_USER_MODEL`` is.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField


class PhoneAccount(models.Model):
    """The phone number a user signs in with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="phone_account",
        verbose_name=_("user"),
    )
    phone = PhoneNumberField(_("phone"), unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("phone account")
        verbose_name_plural = _("phone accounts")

    def __str__(self) -> str:
        return str(self.phone)


class SignInCode(models.Model):
    """One code sent to a phone; only its keyed hash is stored.

    A code is ``pending`` until the SMS sender accepted it and only then ``active``, so a
    code whose send never finished (a killed process) is never valid.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("being sent")
        ACTIVE = "active", _("active")
        USED = "used", _("used")
        BURNED = "burned", _("burned (too many wrong entries)")
        SUPERSEDED = "superseded", _("replaced by a newer code")
        FAILED = "failed", _("not delivered")

    phone = PhoneNumberField(_("phone"))
    code_hash = models.CharField(_("code hash"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    client = models.CharField(
        _("requested by"),
        max_length=64,
        blank=True,
        help_text=_("The client (IPv4 address or IPv6 /64) that asked for the code."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")
        indexes = [models.Index(fields=["phone", "-id"], name="signincode_phone_latest")]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=models.Q(status="active"),
                name="signincode_one_active_per_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({self.status})"


class LoginSession(models.Model):
    """One login: the family of refresh tokens that rotate from one sign-in.

    Access tokens carry the session id, so revoking the session stops them at once.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="login_sessions",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("revoke reason"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")

    def __str__(self) -> str:
        return str(self.id)


class RefreshTokenRecord(models.Model):
    """A refresh token that was issued; consumed exactly once when it is rotated."""

    jti = models.CharField(_("token id"), max_length=64, primary_key=True)
    session = models.ForeignKey(
        LoginSession, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    consumed_at = models.DateTimeField(_("consumed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refresh token")
        verbose_name_plural = _("refresh tokens")

    def __str__(self) -> str:
        return self.jti
