from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from walletdesk.sla import clock as sla
from walletdesk.sla import followups

register = template.Library()


@register.filter
def promise(ticket: Any) -> datetime | None:
    """The reply time we promised and are still working against (None if nothing is due)."""
    if not ticket.is_active or ticket.status in sla.PAUSED_STATUSES:
        return None
    return sla.current_due(ticket)


@register.filter
def can_follow_up(ticket: Any) -> bool:
    return followups.can_follow_up(ticket)
