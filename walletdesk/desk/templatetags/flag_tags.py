"""Scam flags as chips: one per code, however many times older tickets stored it."""

from __future__ import annotations

from typing import Any

from django import template

from walletdesk.tickets.screening import merge_flags

register = template.Library()


@register.filter
def unique_flags(flags: Any) -> list[dict[str, Any]]:
    # Tickets written before flags were merged at the source may hold one per match.
    return merge_flags(list(flags or []))
