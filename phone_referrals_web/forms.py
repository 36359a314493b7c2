"""Forms of the web UI: they only parse input, with the same parsers the API uses.

The phone goes through ``normalize_phone`` and the code through ``normalize_code``, the
plain validators the API's fields call too, so a number or a code is accepted by the pages
exactly when the API accepts it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from phone_auth.codes import normalize_code
from phone_auth.conf import app_settings
from phone_auth.errors import PhoneRegionNotAllowedError
from phone_auth.phones import MAX_PHONE_INPUT, normalize_phone
from phone_auth.users import editable_user_fields, refuse_placeholder_email, shown_email


class PhoneForm(forms.Form):
    """The phone number a code is sent to."""

    phone = forms.CharField(
        label=_("Phone number"),
        max_length=MAX_PHONE_INPUT,
        help_text=_("Any usual form works: +7 911 000-00-00 or 8 911 000 00 00."),
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "+7 911 000-00-00",
                "autofocus": True,
            }
        ),
    )

    def clean_phone(self) -> str:
        """The number in E.164, or the message the API would give."""
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except PhoneRegionNotAllowedError as exc:
            raise ValidationError(str(exc.detail), code=exc.code) from exc


class CodeForm(forms.Form):
    """The code from the SMS."""

    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        length = app_settings.CODE_LENGTH
        widget = self.fields["code"].widget
        widget.attrs["maxlength"] = str(length)
        widget.attrs["pattern"] = f"[0-9]{{{length}}}"
        widget.attrs["placeholder"] = "•" * length

    def clean_code(self) -> str:
        """Exactly the digits the API accepts."""
        return normalize_code(self.cleaned_data["code"])


class InviteForm(forms.Form):
    """Someone else's invite code (case and stray spaces do not matter)."""

    invite_code = forms.CharField(
        label=_("Invite code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "A2B3C4",
                "class": "invite-input",
            }
        ),
    )


class DetailsForm(forms.ModelForm):
    """Name and email, validated by the user model's own fields (those it has).

    An email that only stands in for none (a placeholder) is shown empty, as the API's
    profile shows it, and cannot be typed in.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.initial["email"] = shown_email(self.initial.get("email"))

    def clean_email(self) -> Any:
        """The model's own checks, then no placeholder address."""
        value = self.cleaned_data["email"]
        refuse_placeholder_email(value)
        return value

    class Meta:
        model = get_user_model()
        fields = editable_user_fields()
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
