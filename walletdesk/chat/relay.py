"""Ticket changes a live chat's sockets must hear of (a listener, registered in ChatConfig.ready).

A chat's messages are the ticket's public thread, written by tickets.actions whoever writes
them: the customer's socket, the agent's, the desk's reply form, the REST API, the SLA's
reminders. Each one numbered (`seq`) is sent to the conversation's group as it commits.
"""

from __future__ import annotations

from walletdesk.chat import frames
from walletdesk.core import live
from walletdesk.tickets.live import Change
from walletdesk.tickets.models import Channel


def on_ticket_change(change: Change) -> None:
    ticket = change.ticket
    if ticket.channel != Channel.CHAT:
        return
    message = change.message
    if change.kind in ("message", "created") and message is not None and message.seq is not None:
        frame = frames.message(message)
        message._chat_frame = frame  # type: ignore[attr-defined]  # the sender's ack reuses it
        event = {"type": "chat.frame", "ticket_id": ticket.pk, "reference": ticket.reference, "frame": frame}
        live.publish(f"chat.{ticket.pk}", event)
