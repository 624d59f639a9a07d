"""Follow-ups: reminders on pending tickets, auto-solve, and the customer's "follow up" button.

The pending timers are `SlaCheck` rows (see `timers`, which runs these), keyed on the moment the
ticket became pending: if the customer answers, the ticket leaves pending and the timers go
stale. What they write goes through the tickets actions; moving the ticket's clock (and
arming its next timer) is the actions' lifecycle hook (`sla.hooks`), not this module's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from walletdesk.core import mail
from walletdesk.core.locks import lock_rows
from walletdesk.sla import clock as sla
from walletdesk.sla.notify import mail_agents
from walletdesk.tickets import actions
from walletdesk.tickets.models import Status, Ticket


def follow_up_cooldown() -> timedelta:
    return timedelta(hours=getattr(settings, "FOLLOW_UP_COOLDOWN_HOURS", 12))


def _language(ticket: Ticket) -> str:
    return mail.language(ticket.language)


def remind_pending(ticket: Ticket, now: datetime) -> str:
    days = (now - (ticket.sla_paused_at or now)).days
    with translation.override(_language(ticket)):
        body = _(
            "We are still waiting for your answer on %(ref)s. Reply to this message or on your request "
            "page; if we hear nothing, we will close the request in %(days)d days."
        ) % {"ref": ticket.reference, "days": max(1, (sla_auto_days() - days))}
    actions.tell_customer(ticket, body, event="pending_reminder_sent", after_days=days)
    return "reminded"


def sla_auto_days() -> int:
    return int(getattr(settings, "PENDING_AUTOSOLVE_DAYS", 7))


def autosolve_pending(ticket: Ticket, now: datetime) -> str:
    with translation.override(_language(ticket)):
        body = _(
            "We have not heard back from you, so we marked %(ref)s as solved. If you still need help, "
            "just reply and it opens again."
        ) % {"ref": ticket.reference}
    actions.tell_customer(ticket, body)
    actions.change_status(ticket, Status.SOLVED, actor=None)
    actions.record_event(ticket, "auto_solved", pending_since=str(ticket.sla_paused_at))
    return "auto_solved"


# --- the customer's "follow up" button --------------------------------------------------------


def can_follow_up(ticket: Ticket, now: datetime | None = None) -> bool:
    """The promise has passed, the ticket is waiting on us, and the last press is not recent."""
    now = now or timezone.now()
    if ticket.status not in (Status.NEW, Status.OPEN):
        return False
    due = sla.current_due(ticket)
    if due is None or now <= due:
        return False
    return ticket.followed_up_at is None or now - ticket.followed_up_at >= follow_up_cooldown()


class FollowUpRefused(Exception):
    pass


def customer_follow_up(ticket: Ticket, *, user: Any = None) -> Ticket:
    """Raise the ticket one priority step, record it and tell whoever works it."""
    now = timezone.now()
    with transaction.atomic():
        ticket = lock_rows(Ticket, [ticket.pk])[ticket.pk]
        if not can_follow_up(ticket, now):
            raise FollowUpRefused
        ticket = actions.follow_up_by_customer(ticket, user=user, now=now)
        recipients = [ticket.assignee] if ticket.assignee else []
        if ticket.team is not None and ticket.team.lead is not None:
            recipients.append(ticket.team.lead)
        mail_agents(
            recipients, lambda: _("Customer followed up: %(ref)s") % {"ref": ticket.reference}, ticket
        )
    return ticket
