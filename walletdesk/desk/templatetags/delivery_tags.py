from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def delivery_of(deliveries: dict[int, Any], message_id: int) -> Any:
    """The outbound row of a message on a social ticket (desk.views._deliveries), or None."""
    return deliveries.get(message_id) if deliveries else None
