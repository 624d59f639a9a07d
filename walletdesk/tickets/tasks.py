"""Background work for tickets. Tasks take ids, never model instances."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation

from walletdesk.tickets.models import Message, Ticket
from walletdesk.tickets.tracking import tracking_url


@task(queue_name="email")
def notify_customer(ticket_id: int, kind: str, message_id: int | None = None) -> str:
    """Mail the customer about their ticket: created (with the promise), an agent reply, solved."""
    ticket = Ticket.objects.select_related("contact", "category").filter(pk=ticket_id).first()
    if ticket is None or not ticket.contact.email:
        return "skipped"
    message = Message.objects.filter(pk=message_id, ticket_id=ticket_id).first() if message_id else None
    with translation.override(ticket.language):
        context = {
            "ticket": ticket,
            "message": message,
            "kind": kind,
            "tracking_url": tracking_url(ticket.reference, ticket.contact_id),
        }
        subject = render_to_string("tickets/email/subject.txt", context).strip()
        text = render_to_string("tickets/email/notification.txt", context)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[ticket.contact.email],
        headers={"Auto-Submitted": "auto-generated" if kind != "reply" else "no"},
    )
    mail.send()
    return "sent"
