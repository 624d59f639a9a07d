"""How the look-up's numbers and addresses read on a page."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def amount(value: Decimal | int | None) -> str:
    """An exact amount in plain digits: no exponent ("1E+2"), no trailing zeros, no rounding."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def short(address: str) -> str:
    """0x1234…abcd: enough to tell addresses apart at a glance; the full one is in the title and
    the link (a poisoner copies exactly these ends, so the full address is always one hover away)."""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


@register.filter
def address_link(result: object, address: str) -> str:
    """The explorer link of ``address`` on the look-up's chain ("" without a template)."""
    link = getattr(result, "link", None)
    return str(link(address)) if callable(link) else ""
