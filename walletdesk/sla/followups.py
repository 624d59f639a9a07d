"""Follow-ups: reminders on pending tickets, auto-solve, and the customer's "follow up" button.

The pending timers are `SlaCheck` rows (see `sla_tasks`), keyed on the moment the ticket became
pending: if the customer answers, the ticket leaves pending and the timers go stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from walletdesk.core.locks import lock_rows
from walletdesk.sla import clock as sla
from walletdesk.tickets import channels
from walletdesk.tickets.models import AuthorRole, Channel, Message, Status, Ticket, TicketEvent, Visibility
from walletdesk.tickets.tracking import tracking_url


def follow_up_cooldown() -> timedelta:
    return timedelta(hours=getattr(settings, "FOLLOW_UP_COOLDOWN_HOURS", 12))


def _language(ticket: Ticket) -> str:
    return "zh-hans" if ticket.language.startswith("zh") else "en"


def _tell_customer(ticket: Ticket, body: str, kind: str) -> Message:
    """A public system message in the thread, sent on the ticket's channel (or by email)."""
    message = Message.objects.create(
        ticket=ticket,
        visibility=Visibility.PUBLIC,
        author_role=AuthorRole.SYSTEM,
        channel=ticket.channel if ticket.channel != Channel.EMAIL else Channel.WEB,
        body=body,
        created_at=timezone.now(),
    )
    ticket_id, message_id = ticket.pk, message.pk

    def send() -> None:
        fresh = Ticket.objects.select_related("contact").get(pk=ticket_id)
        if channels.sender_for(fresh) is not None:
            from walletdesk.tickets import tasks

            tasks.notify_customer.enqueue(ticket_id=ticket_id, kind="reply", message_id=message_id)
        elif fresh.contact.email:
            # The message is committed on the ticket (the customer sees it when they look).
            channels.mail_plainly(
                f"[{fresh.reference}] {fresh.subject}",
                f"{body}\n\n{tracking_url(fresh.reference, fresh.contact_id)}\n",
                [fresh.contact.email],
                language=_language(fresh),
                about=f"the message on {fresh.reference}",
            )

    transaction.on_commit(send)
    return message


def remind_pending(ticket: Ticket, now: datetime) -> str:
    days = (now - (ticket.sla_paused_at or now)).days
    with translation.override(_language(ticket)):
        body = _(
            "We are still waiting for your answer on %(ref)s. Reply to this message or on your request "
            "page; if we hear nothing, we will close the request in %(days)d days."
        ) % {"ref": ticket.reference, "days": max(1, (sla_auto_days() - days))}
    _tell_customer(ticket, body, "pending_reminder")
    TicketEvent.objects.create(ticket=ticket, kind="pending_reminder_sent", data={"after_days": days})
    return "reminded"


def sla_auto_days() -> int:
    return int(getattr(settings, "PENDING_AUTOSOLVE_DAYS", 7))


def autosolve_pending(ticket: Ticket, now: datetime) -> str:
    from walletdesk.tickets import actions

    with translation.override(_language(ticket)):
        body = _(
            "We have not heard back from you, so we marked %(ref)s as solved. If you still need help, "
            "just reply and it opens again."
        ) % {"ref": ticket.reference}
    _tell_customer(ticket, body, "auto_solved")
    actions.change_status(ticket, Status.SOLVED, actor=None)
    TicketEvent.objects.create(
        ticket=ticket, kind="auto_solved", data={"pending_since": str(ticket.sla_paused_at)}
    )
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
    from walletdesk.sla import timers as sla_tasks
    from walletdesk.tickets import actions

    now = timezone.now()
    with transaction.atomic():
        ticket = lock_rows(Ticket, [ticket.pk])[ticket.pk]
        if not can_follow_up(ticket, now):
            raise FollowUpRefused
        ticket.followed_up_at = now
        ticket.save(update_fields=["followed_up_at"])
        higher = sla_tasks.raise_one_step(ticket.priority)
        if higher != ticket.priority:
            actions.change_priority(ticket, higher, actor=None)
            ticket.refresh_from_db()
        TicketEvent.objects.create(
            ticket=ticket,
            kind="customer_followed_up",
            actor=user if getattr(user, "is_authenticated", False) else None,
            data={"priority": ticket.priority},
        )
        recipients = [ticket.assignee] if ticket.assignee else []
        if ticket.team is not None and ticket.team.lead is not None:
            recipients.append(ticket.team.lead)
        sla_tasks.mail_agents(
            recipients, _("Customer followed up: %(ref)s") % {"ref": ticket.reference}, ticket
        )
    return ticket
