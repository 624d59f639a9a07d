"""The JSON frames of docs/chat-protocol.md, built in one place."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from walletdesk.chat import lines
from walletdesk.chat.models import Conversation, State
from walletdesk.tickets import actions
from walletdesk.tickets.models import AuthorRole, Message, Ticket

FILE_SALT = "walletdesk.chat.file"


def agent_name(user: Any) -> str:
    """What a customer sees of an agent: a chosen name, never their email."""
    if user is None:
        return ""
    return str(user.display_name or user.first_name or _("Agent"))


def file_url(attachment_id: int) -> str:
    token = signing.dumps({"a": attachment_id}, salt=FILE_SALT, compress=True)
    return reverse("api:chat_file", kwargs={"token": token})


def message(m: Message, *, client_id: str | None = None, removed: list[str] | None = None) -> dict[str, Any]:
    if client_id is None and m.external_id and m.channel == "chat":
        # "<ticket id>:<client id>", or "<ticket id>:agent-<user id>-<client id>"
        tail = m.external_id.split(":", 1)[-1]
        client_id = tail.split("-", 2)[-1] if tail.startswith("agent-") else tail
    if m.author_role == AuthorRole.AGENT:
        name = agent_name(m.author_user)
    elif m.author_role == AuthorRole.CUSTOMER:
        name = m.author_contact.name if m.author_contact is not None else ""
    else:
        name = ""
    frame: dict[str, Any] = {
        "type": "message",
        "seq": m.seq,
        "client_id": client_id,
        "author": m.author_role,
        "author_name": name,
        "body": m.body,
        "created_at": m.created_at.isoformat().replace("+00:00", "Z"),
        "attachments": [
            {"name": a.filename, "size": a.size, "content_type": a.content_type, "url": file_url(a.pk)}
            for a in m.attachments.all()
        ]
        if m.pk
        else [],
        "removed": removed or [],
    }
    if m.pk and actions.is_first_answer(m):
        frame["first_answer"] = first_answer(m)
    return frame


def first_answer(m: Message) -> dict[str, Any] | None:
    """The bot's line, structured for the widget: our article's passage, its title and link,
    and whether the customer pressed already ("pending", "solved", "declined")."""
    offer = next((o for o in actions.offers(m.ticket_id) if o.message_id == m.pk), None)
    if offer is None:
        return None
    return {
        "passage": offer.passage,
        "title": offer.title,
        "url": offer.url,
        "state": offer.state,
        "choices": ["solved", "person"],
    }


def status(conversation: Conversation) -> dict[str, Any]:
    ticket = conversation.ticket
    if conversation.state == State.ACTIVE:
        state = "assigned"
    elif conversation.state == State.ENDED:
        state = "ended"
    elif lines.anyone_online(conversation):
        state = "queued"
    else:
        state = "offline"
    return {
        "type": "status",
        "status": state,
        "queue_position": lines.queue_position(conversation) if state == "queued" else None,
        "agent": {"name": agent_name(conversation.agent)} if conversation.agent_id else None,
        "reply_by": ticket.first_reply_due.isoformat() if ticket.first_reply_due else None,
    }


def hello(conversation: Conversation, last_seq: int) -> dict[str, Any]:
    return {
        **status(conversation),
        "type": "hello",
        "reference": conversation.ticket.reference,
        "last_seq": last_seq,
        "customer_read_seq": conversation.customer_read_seq,
        "agent_read_seq": conversation.agent_read_seq,
        "notice": lines.notice(),
    }


def ended(conversation: Conversation, ticket: Ticket) -> dict[str, Any]:
    return {
        "type": "ended",
        "reference": ticket.reference,
        # Solved by the customer's "this solved it" counts as answered: not "we will email you".
        "answered": ticket.first_replied_at is not None or ticket.status == "solved",
        "csat_url": None,
    }


def chat_summary(conversation: Conversation) -> dict[str, Any]:
    """A chat as the agent's panel lists it."""
    ticket = conversation.ticket
    contact = ticket.contact
    return {
        "type": "chat",
        "reference": ticket.reference,
        "subject": ticket.subject,
        "customer": contact.name or contact.email or _("Guest"),
        "language": conversation.language,
        "assignee": agent_name(conversation.agent) if conversation.agent_id else None,
        "assignee_id": conversation.agent_id,
        "status": conversation.state,
        "ticket_url": reverse("agent:ticket", kwargs={"reference": ticket.reference}),
        "last_seq": actions.last_seq(ticket.pk),
    }
