from __future__ import annotations

from typing import Any

from django import template

from walletdesk.desk.models import Macro

register = template.Library()


@register.inclusion_tag("desk/_macros.html", takes_context=True)
def macro_picker(context: dict[str, Any], ticket: Any) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "macros": list(Macro.objects.filter(active=True).only("pk", "name")),
        "csrf_token": context.get("csrf_token"),
    }
