"""Reply-time promises: the hooks actions call when a ticket changes, and the state shown.

Actions call one hook per kind of change, inside their transaction; each hook updates the
ticket's due fields in place and returns the names of the fields it changed, so the action
saves them with its own. This is the only module that knows how due times are computed.

Today the promise is calendar hours per priority (settings.FIRST_REPLY_HOURS); the business
hours engine (`sla_clock`) plugs in here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.conf import settings

if TYPE_CHECKING:
    from walletdesk.tickets.models import Ticket

SlaState = Literal["ok", "at_risk", "breached", "paused"]
AT_RISK_FRACTION = 0.25  # the last quarter of the reply window is "at risk"
PAUSED_STATUSES = ("pending", "on_hold")


def _window(priority: str) -> timedelta:
    return timedelta(hours=settings.FIRST_REPLY_HOURS[priority])


def on_created(ticket: Ticket, now: datetime) -> list[str]:
    ticket.first_reply_due = now + _window(ticket.priority)
    return ["first_reply_due"]


def on_customer_message(ticket: Ticket, now: datetime) -> list[str]:
    # Once the first reply is given, each customer message starts a next-reply clock.
    ticket.next_reply_due = now + _window(ticket.priority) if ticket.first_replied_at else None
    return ["next_reply_due"]


def on_agent_reply(ticket: Ticket, now: datetime) -> list[str]:
    ticket.next_reply_due = None
    return ["next_reply_due"]


def on_status_change(ticket: Ticket, old_status: str, now: datetime) -> list[str]:
    return []


def on_priority_change(ticket: Ticket, now: datetime) -> list[str]:
    if ticket.first_replied_at is None:
        ticket.first_reply_due = ticket.created_at + _window(ticket.priority)
        return ["first_reply_due"]
    return []


def current_due(ticket: Ticket) -> datetime | None:
    """The deadline the team is working against now: first reply, then next reply."""
    if ticket.first_replied_at is None:
        return ticket.first_reply_due
    return ticket.next_reply_due


def sla_state(ticket: Ticket, now: datetime) -> SlaState:
    if ticket.status in PAUSED_STATUSES:
        return "paused"
    due = current_due(ticket)
    if due is None or ticket.status in ("solved", "closed"):
        return "ok"
    if now >= due:
        return "breached"
    if due - now <= _window(ticket.priority) * AT_RISK_FRACTION:
        return "at_risk"
    return "ok"
