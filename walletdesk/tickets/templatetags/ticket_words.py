"""Filters that turn a ticket's stored codes into the reader's language (see tickets.wording)."""

from __future__ import annotations

from typing import Any

from django import template

from walletdesk.tickets import wording
from walletdesk.tickets.models import Priority, Status, TicketEvent

register = template.Library()
_LABELS = {**dict(Status.choices), **dict(Priority.choices)}


@register.filter
def customer_status(ticket: Any) -> str:
    """The status as the customer reads it: "Waiting for your reply", not the agent's label."""
    return wording.customer_status(getattr(ticket, "status", ticket))


@register.filter
def flag_text(flag: Any) -> str:
    """One flag's reason in the reader's language (the stored reason is English)."""
    return wording.flag_text(flag) if isinstance(flag, dict) else str(flag)


@register.filter
def flag_texts(flags: Any) -> list[str]:
    return wording.flag_texts(flags or [])


@register.filter
def event_sentence(event: TicketEvent) -> str:
    who = str(event.actor.label) if event.actor is not None else ""
    return wording.event_sentence(event.kind, event.data or {}, who, _LABELS)
