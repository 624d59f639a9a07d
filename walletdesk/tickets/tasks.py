"""Background work for tickets. Tasks take ids, never model instances."""

from __future__ import annotations

from django.tasks import task

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
