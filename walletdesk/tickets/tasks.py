"""Background work for tickets. Tasks take ids, never model instances."""

from __future__ import annotations

from collections import Counter

from django.tasks import task

from walletdesk.core.views import is_outage
from walletdesk.tickets import channels
from walletdesk.tickets.models import Message, Ticket


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
    update per ticket (7 of the 12 round trips an acknowledgement cost on PostgreSQL), and the
    channel's batch sender (`channels.send_to_customers`) records them together. Each ticket
    is still sent on its own: one that raises does not stop the others, and the task then
    fails naming it. Run again, it sends nothing twice (the senders' dedupe keys): a run whose
    worker died is handed back to the queue (core.leases), and the re-run sends only what the
    dead run recorded but never tried; the one mail it was sending is the stalled-mail sweep's
    (connectors/email/outbound.py, "Crash safety").
    """
    tickets = Ticket.objects.select_related("contact", "category").in_bulk(ticket_ids)
    outcomes: Counter[str] = Counter(skipped=len(set(ticket_ids) - tickets.keys()))
    failed: list[int] = []
    outage: Exception | None = None
    sent = channels.send_to_customers([tickets[i] for i in dict.fromkeys(ticket_ids) if i in tickets], kind)
    for ticket_id, outcome in sent.items():
        if isinstance(outcome, Exception):
            failed.append(ticket_id)
            outage = outage or (outcome if is_outage(outcome) else None)
        else:
            outcomes[outcome] += 1
    summary = " ".join(f"{outcome}={n}" for outcome, n in sorted(outcomes.items()) if n)
    if failed:
        # Chained to an outage (the database restarting mid-batch), the worker hands the task
        # back instead of failing it (core.worker), and the re-run sends what is left.
        raise NotifyFailed(f"{kind} notification failed for tickets {sorted(failed)}; {summary}") from outage
    return summary
