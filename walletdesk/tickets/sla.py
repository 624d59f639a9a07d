"""Reply-time promises. Calendar hours per priority until SLA policies (business hours) land."""

from __future__ import annotations

from datetime import datetime, timedelta

from typing import TYPE_CHECKING, Literal

from django.conf import settings

if TYPE_CHECKING:
    from walletdesk.tickets.models import Ticket

SlaState = Literal["ok", "at_risk", "breached", "paused"]


def first_reply_due(priority: str, created_at: datetime) -> datetime:
    return created_at + timedelta(hours=settings.FIRST_REPLY_HOURS[priority])


def next_reply_due(priority: str, customer_wrote_at: datetime) -> datetime:
    return customer_wrote_at + timedelta(hours=settings.FIRST_REPLY_HOURS[priority])


AT_RISK_FRACTION = 0.25  # the last quarter of the reply window is "at risk"


def current_due(ticket: Ticket) -> datetime | None:
    """The deadline the team is working against now: first reply, then next reply."""
    if ticket.first_replied_at is None:
        return ticket.first_reply_due
    return ticket.next_reply_due


def sla_state(ticket: Ticket, now: datetime) -> SlaState:
    from walletdesk.tickets.models import Status

    if ticket.status in (Status.PENDING, Status.ON_HOLD):
        return "paused"
    due = current_due(ticket)
    if due is None or ticket.status in (Status.SOLVED, Status.CLOSED):
        return "ok"
    if now >= due:
        return "breached"
    window = timedelta(hours=settings.FIRST_REPLY_HOURS.get(ticket.priority, 24))
    if due - now <= window * AT_RISK_FRACTION:
        return "at_risk"
    return "ok"
