"""`{% brand_name %}` for mail templates, which are rendered without a request (no context
processor runs), so the brand cannot come from the page context."""

from __future__ import annotations

from django import template

from walletdesk.core import mail

register = template.Library()


@register.simple_tag
def brand_name() -> str:
    return mail.brand_name()
