from __future__ import annotations

from typing import Any

from django import template

from walletdesk.desk import macros

register = template.Library()


@register.inclusion_tag("desk/_macros.html", takes_context=True)
def macro_picker(context: dict[str, Any], ticket: Any) -> dict[str, Any]:
    offered = macros.offered(ticket)
    # A macro just refused for a stale ticket stays chosen ("Send anyway"); otherwise only a
    # macro that fits the ticket is preselected, never the first of the list.
    confirm = getattr(ticket, "macro_confirm", None)
    default = offered.default
    return {
        "ticket": ticket,
        "macros": offered,
        "selected": confirm or (default.pk if default is not None else None),
        "csrf_token": context.get("csrf_token"),
    }
