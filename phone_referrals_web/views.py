"""Pages of the web UI: thin views over the same services and selectors as the API.

Sign-in is a Django session login. The views that send a code are async: they await the
SMS sender on the event loop, so the provider's latency never holds a thread, and reach
everything sync (templates, the session store, the ORM) through ``sync_to_async``. Every
``ApplicationError`` a service raises is shown next to the field it concerns.
"""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from phone_auth import services as auth_services
from phone_auth.conf import app_settings
from phone_auth.errors import (
    ApplicationError,
    InvalidCodeError,
    TooManyAttemptsError,
    json_error,
)
from phone_auth.ratelimit import client_ip
from phone_auth.services import SentCode
from phone_auth.signals import user_signed_in
from phone_auth.typing import AuthUser
from phone_referrals_web.backends import PHONE_BACKEND
from phone_referrals_web.forms import CodeForm, DetailsForm, InviteForm, PhoneForm
from referrals import services as referral_services
from referrals.selectors import ledger_entry_phone, points_ledger, profile_view, referrals_list

# What the code page needs to remember between the send and the check (under the app's
# name: the session is shared with the host project's own keys).
SESSION_PHONE = "phone_referrals_web_signin_phone"
SESSION_RESEND_AT = "phone_referrals_web_signin_resend_at"
SESSION_DEMO_CODE = "phone_referrals_web_signin_demo_code"
# Set once the code can no longer sign in (too many wrong entries): the page then offers
# only a new code.
SESSION_CODE_DEAD = "phone_referrals_web_signin_code_dead"

REFERRALS_PER_PAGE = 10
LEDGER_PER_PAGE = 10

signed_in_only = login_required(
    login_url=reverse_lazy("phone_referrals_web:phone"), redirect_field_name=None
)


def _wait_text(seconds: int) -> str:
    """'Try again in …' with the wait in the largest sensible unit."""
    if seconds < 120:
        return ngettext(
            "Try again in %(count)d second.", "Try again in %(count)d seconds.", seconds
        ) % {"count": seconds}
    if seconds < 2 * 3600:
        minutes = (seconds + 59) // 60
        return ngettext(
            "Try again in %(count)d minute.", "Try again in %(count)d minutes.", minutes
        ) % {"count": minutes}
    hours = (seconds + 3599) // 3600
    return ngettext("Try again in %(count)d hour.", "Try again in %(count)d hours.", hours) % {
        "count": hours
    }


def error_text(exc: ApplicationError) -> str:
    """The service's localized message, with the attempts left or the wait when it has them."""
    text = str(exc.detail)
    attempts_left = exc.extra.get("attempts_left")
    retry_after = exc.extra.get("retry_after")
    if attempts_left == 0:
        text += " " + _("No attempts are left for this code.")
    elif attempts_left is not None:
        text += " " + ngettext(
            "%(count)d attempt left.", "%(count)d attempts left.", attempts_left
        ) % {"count": attempts_left}
    elif retry_after is not None:
        text += " " + _wait_text(int(retry_after))
    return text


def code_is_dead(exc: ApplicationError) -> bool:
    """Whether the error means the code sent can no longer sign in."""
    return isinstance(exc, TooManyAttemptsError) or (
        isinstance(exc, InvalidCodeError) and exc.extra.get("attempts_left") == 0
    )


async def _remember_sent(request: HttpRequest, sent: SentCode) -> None:
    await request.session.apop(SESSION_CODE_DEAD, None)
    await request.session.aset(SESSION_PHONE, sent.phone)
    await request.session.aset(SESSION_RESEND_AT, time.time() + sent.retry_after)
    if auth_services.code_visible_to(
        peer=str(request.META.get("REMOTE_ADDR") or ""), ip=client_ip(request)
    ):
        await request.session.aset(SESSION_DEMO_CODE, sent.code)
    else:
        await request.session.apop(SESSION_DEMO_CODE, None)


async def _is_signed_in(request: HttpRequest) -> bool:
    user = await request.auser()
    return bool(user.is_authenticated)


async def phone_page(request: HttpRequest) -> HttpResponse:
    """Enter a phone number; a valid one gets a code and leads to the code page."""
    if await _is_signed_in(request):
        return redirect("phone_referrals_web:profile")
    form = PhoneForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            sent = await auth_services.code_send(
                phone=form.cleaned_data["phone"], ip=client_ip(request)
            )
        except ApplicationError as exc:
            form.add_error("phone", error_text(exc))
        else:
            await _remember_sent(request, sent)
            return redirect("phone_referrals_web:code")
    return await sync_to_async(render)(request, "phone_referrals_web/phone.html", {"form": form})


def _render_code_page(
    request: HttpRequest, form: CodeForm, resend_error: str | None = None
) -> HttpResponse:
    resend_at = float(request.session.get(SESSION_RESEND_AT, 0))
    code_dead = bool(request.session.get(SESSION_CODE_DEAD))
    if code_dead:  # nothing to type a code into: the focus goes to "Send a new code"
        attrs = form.fields["code"].widget.attrs
        attrs.pop("autofocus", None)
        attrs["disabled"] = True
        if form.is_bound:  # the spent entry is not shown back
            form.data = {**form.data, "code": ""}
    context = {
        "form": form,
        "phone": request.session[SESSION_PHONE],
        "code_dead": code_dead,
        "demo_code": None if code_dead else request.session.get(SESSION_DEMO_CODE),
        "code_length": app_settings.CODE_LENGTH,
        "resend_wait": max(0, int(resend_at - time.time() + 0.999)),
        "resend_error": resend_error,
    }
    return render(request, "phone_referrals_web/code.html", context)


def code_page(request: HttpRequest) -> HttpResponse:
    """Enter the code that was sent; the right one signs the person in."""
    if request.user.is_authenticated:
        return redirect("phone_referrals_web:profile")
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect("phone_referrals_web:phone")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            user, is_new = auth_services.code_verify(
                phone=phone, code=form.cleaned_data["code"], ip=client_ip(request)
            )
        except ApplicationError as exc:
            form.add_error("code", error_text(exc))
            if code_is_dead(exc):
                request.session[SESSION_CODE_DEAD] = True
                request.session.pop(SESSION_DEMO_CODE, None)
        else:
            login(request, user, backend=PHONE_BACKEND)  # sends Django's user_logged_in
            user_signed_in.send(
                sender=__name__, user=user, phone=phone, is_new_user=is_new, request=request
            )
            for key in (SESSION_PHONE, SESSION_RESEND_AT, SESSION_DEMO_CODE, SESSION_CODE_DEAD):
                request.session.pop(key, None)
            messages.success(
                request,
                _("Welcome! Your account is ready.") if is_new else _("You are signed in."),
            )
            return redirect("phone_referrals_web:profile")
    return _render_code_page(request, form)


@require_POST
async def code_resend(request: HttpRequest) -> HttpResponse:
    """Send a new code to the remembered phone (the service enforces the cooldown)."""
    phone = await request.session.aget(SESSION_PHONE)
    if not phone:
        return redirect("phone_referrals_web:phone")
    try:
        sent = await auth_services.code_send(phone=phone, ip=client_ip(request))
    except ApplicationError as exc:
        return await sync_to_async(_render_code_page)(request, CodeForm(), error_text(exc))
    await _remember_sent(request, sent)
    messages.success(request, _("A new code is on its way."))
    return redirect("phone_referrals_web:code")


def _render_profile(
    request: HttpRequest,
    *,
    invite_form: InviteForm | None = None,
    details_form: DetailsForm | None = None,
) -> HttpResponse:
    user: AuthUser = request.user  # type: ignore[assignment]
    profile = profile_view(user=user)
    referrals = Paginator(
        referrals_list(user=user).order_by("-created_at", "-id"), REFERRALS_PER_PAGE
    ).get_page(request.GET.get("page"))
    ledger = Paginator(
        points_ledger(user=user).order_by("-created_at", "-id"), LEDGER_PER_PAGE
    ).get_page(request.GET.get("points_page"))
    context: dict[str, Any] = {
        "profile": profile,
        "referrals": referrals,
        "ledger": ledger,
        "ledger_rows": [(entry, ledger_entry_phone(entry)) for entry in ledger],
        "invite_form": invite_form or InviteForm(),
        "details_form": details_form or DetailsForm(instance=user),
    }
    return render(request, "phone_referrals_web/profile.html", context)


@signed_in_only
def profile_page(request: HttpRequest) -> HttpResponse:
    """My phone, invite code, inviter, referrals, points and details."""
    return _render_profile(request)


@signed_in_only
def invite_activate(request: HttpRequest) -> HttpResponse:
    """Activate someone's invite code (once, ever)."""
    if request.method != "POST":
        return redirect("phone_referrals_web:profile")
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            referral_services.invite_activate(
                user=request.user,  # type: ignore[arg-type]
                code=form.cleaned_data["invite_code"],
                ip=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_error("invite_code", error_text(exc))
        else:
            messages.success(request, _("Invite code activated. Bonus points are yours!"))
            return redirect("phone_referrals_web:profile")
    return _render_profile(request, invite_form=form)


@signed_in_only
def details_edit(request: HttpRequest) -> HttpResponse:
    """Save first name, last name and email."""
    if request.method != "POST":
        return redirect("phone_referrals_web:profile")
    form = DetailsForm(request.POST, instance=request.user)
    if form.is_valid():
        referral_services.profile_update(
            user=form.instance,
            fields={name: form.cleaned_data[name] for name in form.changed_data},
            ip=client_ip(request),
        )
        messages.success(request, _("Your details are saved."))
        return redirect("phone_referrals_web:profile")
    return _render_profile(request, details_form=form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the session login."""
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("phone_referrals_web:phone")


def form_expired(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form posted without a valid token gets a page, not an error dump.

    The token API never reaches it (it takes no cookies and is exempt); the JSON body is
    kept for any other client that does not ask for HTML.
    """
    if "text/html" not in request.headers.get("Accept", ""):
        return json_error(
            "csrf_failed",
            _("The form has expired or was not sent from this site. Reload the page."),
            403,
        )
    return render(request, "phone_referrals_web/form_expired.html", status=403)
