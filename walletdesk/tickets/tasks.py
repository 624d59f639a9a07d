"""Background work for tickets. Tasks take ids, never model instances."""

from __future__ import annotations

import logging
from collections import Counter

from django.tasks import task

from walletdesk.tickets import channels
from walletdesk.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)


@task(queue_name="email")
def notify_customer(ticket_id: int, kind: str, message_id: int | None = None) -> str:
    """Tell the customer about their ticket: created (with the promise), an agent reply, solved.

    The channel adapter (registered by a connector, see `channels`) builds and sends it; the
    email connector records the Message-ID and retries with backoff.
    """
    ticket = Ticket.objects.select_related("contact", "category").filter(pk=ticket_id).first()
    if ticket is None:
        return "skipped"
    message = Message.objects.filter(pk=message_id, ticket_id=ticket_id).first() if message_id else None
    return channels.send_to_customer(ticket, kind, message)


class NotifyFailed(Exception):
    """Some notifications of a batch raised; the rest went out. The task is marked failed."""


@task(queue_name="email")
def notify_customers(ticket_ids: list[int], kind: str) -> str:
    """`notify_customer` for the tickets of one write batch (acknowledgements of new tickets).

    A batch of tickets committed together is acknowledged by one task: the worker claims it
    once and loads the tickets in one query, instead of a claim, a ticket query and a result
    update per ticket (7 of the 12 round trips an acknowledgement cost on PostgreSQL). Each
    ticket is still sent on its own: one that raises does not stop the others, and the task
    then fails naming it. Run again, it sends nothing twice (the senders' dedupe keys).
    """
    tickets = Ticket.objects.select_related("contact", "category").in_bulk(ticket_ids)
    outcomes: Counter[str] = Counter()
    failed: list[int] = []
    for ticket_id in ticket_ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            outcomes["skipped"] += 1
            continue
        try:
            outcomes[channels.send_to_customer(ticket, kind, None)] += 1
        except Exception:
            logger.exception("notifying the customer of ticket %s (%s) failed", ticket_id, kind)
            failed.append(ticket_id)
    summary = " ".join(f"{outcome}={n}" for outcome, n in sorted(outcomes.items()))
    if failed:
        raise NotifyFailed(f"{kind} notification failed for tickets {failed}; {summary}")
    return summary
