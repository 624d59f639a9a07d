"""How a ticket's answer reaches the customer: one outbound adapter per channel.

Connectors register their sender from their AppConfig.ready(); tickets never import a
connector (the dependency runs connectors -> tickets only). A channel without its own sender
(web, in-app, phone) reaches a customer who gave an email address through the email sender.
"""

from __future__ import annotations

from collections.abc import Callable

from walletdesk.tickets.models import Channel, Message, Ticket

# sender(ticket, kind, message) -> a short outcome for the task result ("sent", "queued", ...)
Sender = Callable[[Ticket, str, Message | None], str]

_senders: dict[str, Sender] = {}


def register_sender(channel: str, sender: Sender) -> None:
    _senders[channel] = sender


def unregister_sender(channel: str) -> None:
    _senders.pop(channel, None)


def sender_for(ticket: Ticket) -> Sender | None:
    sender = _senders.get(ticket.channel)
    if sender is None and ticket.contact.email:
        sender = _senders.get(Channel.EMAIL)
    return sender


def send_to_customer(ticket: Ticket, kind: str, message: Message | None = None) -> str:
    """Tell the customer about `kind` (created, reply, solved) on the channel that reaches them."""
    sender = sender_for(ticket)
    if sender is None:
        return "no_channel"
    return sender(ticket, kind, message)
