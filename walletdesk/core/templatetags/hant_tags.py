"""`{{ text|hant }}`: stored Simplified Chinese shown in Traditional on a zh-hant page (core.hant).

For data kept in two languages only (help articles). Safe-ness is kept: the conversion changes
Han characters and quotes only, never markup."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeData, mark_safe

from walletdesk.core.hant import shown

register = template.Library()


@register.filter(is_safe=True)
def hant(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    out = shown(value)
    return mark_safe(out) if isinstance(value, SafeData) else out  # noqa: S308 - same markup, other characters
