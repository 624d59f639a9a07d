"""`{{ ticket.first_reply_due|zoned }}`: a promised time with an unambiguous zone (see core.when)."""

from __future__ import annotations

from datetime import datetime

from django import template

from walletdesk.core.when import zoned as _zoned

register = template.Library()


@register.filter
def zoned(moment: datetime | None) -> str:
    return _zoned(moment)
