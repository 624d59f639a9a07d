"""Who hears of a ticket's changes as they happen: listeners registered by the apps above.

Tickets never import the apps that show a change live (the desk's inbox, the live chat):
they register a listener from their AppConfig.ready(), as connectors register a sender
(tickets.channels). Actions call `announce` inside their transaction, after the write; a
listener that publishes does so with `core.live.publish`, which waits for the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from walletdesk.tickets.models import Message, Ticket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    ticket: Ticket
    kind: str  # "created", "message", "note", "status", "priority", "assignee", "team", "facts", "merged"...
    message: Message | None = None
    actor_id: int | None = None


Listener = Callable[[Change], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unlisten(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def announce(ticket: Ticket, kind: str, *, message: Message | None = None, actor: Any = None) -> None:
    """Tell the listeners. A listener that fails is logged, never allowed to undo the change:
    a listener that writes must do it in a savepoint (on PostgreSQL a failed statement aborts
    the whole transaction, which no except clause here can undo)."""
    if not _listeners:
        return
    change = Change(ticket, kind, message, actor.pk if getattr(actor, "is_authenticated", False) else None)
    for listener in _listeners:
        try:
            listener(change)
        except Exception:
            logger.exception("live listener %r failed on %s", listener, kind)
