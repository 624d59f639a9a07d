"""Ticket changes a live chat's sockets must hear of (a listener, registered in ChatConfig.ready).

A chat's messages are the ticket's public thread, written by tickets.actions whoever writes
them: the customer's socket, the agent's, the desk's reply form, the REST API, the SLA's
reminders. Each one numbered (`seq`) is sent to the conversation's group as it commits.
"""

from __future__ import annotations

from django.utils import timezone

from walletdesk.chat import actions, frames
from walletdesk.chat.models import Conversation, State
from walletdesk.core import live
from walletdesk.tickets.live import Change
from walletdesk.tickets.models import AuthorRole, Channel, Ticket


def on_ticket_change(change: Change) -> None:
    ticket = change.ticket
    if ticket.channel != Channel.CHAT:
        return
    message = change.message
    if change.kind in ("message", "created") and message is not None and message.seq is not None:
        if message.author_role == AuthorRole.AGENT and message.author_user_id is not None:
            _answered_by(ticket, message.author_user_id)
        frame = frames.message(message)
        message._chat_frame = frame  # type: ignore[attr-defined]  # the sender's ack reuses it
        event = {"type": "chat.frame", "ticket_id": ticket.pk, "reference": ticket.reference, "frame": frame}
        live.publish(actions.group(ticket.pk), event)


def _answered_by(ticket: Ticket, agent_id: int) -> None:
    """An agent answered a waiting chat from the desk or the API: it is theirs now, and the
    customer's status line says so (no longer "nobody is online")."""
    taken = Conversation.objects.filter(pk=ticket.pk, state=State.WAITING).update(
        state=State.ACTIVE, agent_id=agent_id, assigned_at=timezone.now()
    )
    if taken:
        conversation = Conversation.objects.select_related("ticket", "agent").get(pk=ticket.pk)
        live.publish(actions.group(ticket.pk), actions.frame_event(ticket, frames.status(conversation)))
        live.publish(
            actions.agent_group(agent_id), actions.frame_event(ticket, frames.chat_summary(conversation))
        )
