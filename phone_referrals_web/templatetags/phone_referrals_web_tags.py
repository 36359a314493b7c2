"""Template helpers of the web UI: readable phone numbers and page links that keep the query."""

from __future__ import annotations

import phonenumbers
from django import template
from django.forms import BoundField
from django.http import HttpRequest
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def phone(value: object) -> str:
    """An E.164 number the way people write it (``+7 911 000-00-00``)."""
    text = str(value or "")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.simple_tag(takes_context=True)
def page_url(context: template.Context, name: str, number: int) -> str:
    """The current query string with ``name`` set to ``number`` (other page numbers stay)."""
    request: HttpRequest = context["request"]
    query = request.GET.copy()
    query[name] = str(number)
    return "?" + query.urlencode()


@register.filter
def input_of(field: BoundField) -> SafeString:
    """The field's input; the first field of its form with an error gets the focus, so a page
    shown again after a failed post lands at that field and its message."""
    form = field.form
    errors = form.errors if form.is_bound else {}
    first_invalid = next((name for name in form.fields if name in errors), None)
    if first_invalid == field.name:
        return field.as_widget(attrs={"autofocus": True})
    return field.as_widget()
