"""The hook through which a ticket's reply-time clock follows the ticket.

Tickets sit below the SLA app: `walletdesk.sla` imports tickets, never the other way round. Yet
every action that changes a ticket must move its clock in the same transaction. So tickets
declares what it needs of a clock (`Clock`), and the SLA app registers its own from
`SlaConfig.ready()`. Until one is registered (a test that builds the world without the SLA
app, a management command run before apps are ready) nothing is timed.

Each `on_*` hook updates the ticket's due fields in place and returns the names of the fields
it changed, so the action saves them with its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from walletdesk.tickets.models import Ticket


class Clock(Protocol):
    def on_created(self, ticket: Ticket, now: datetime) -> list[str]: ...
    def after_insert(self, tickets: Sequence[Ticket]) -> None: ...
    def on_customer_message(self, ticket: Ticket, now: datetime) -> list[str]: ...
    def on_agent_reply(self, ticket: Ticket, now: datetime) -> list[str]: ...
    def on_status_change(self, ticket: Ticket, old_status: str, now: datetime) -> list[str]: ...
    def on_priority_change(self, ticket: Ticket, now: datetime) -> list[str]: ...
    def current_due(self, ticket: Ticket) -> datetime | None: ...
    def state(self, ticket: Ticket, now: datetime) -> str: ...


class _Untimed:
    """No clock: nothing is due, nothing changes."""

    def on_created(self, ticket: Ticket, now: datetime) -> list[str]:
        return []

    def after_insert(self, tickets: Sequence[Ticket]) -> None:
        return None

    def on_customer_message(self, ticket: Ticket, now: datetime) -> list[str]:
        return []

    def on_agent_reply(self, ticket: Ticket, now: datetime) -> list[str]:
        return []

    def on_status_change(self, ticket: Ticket, old_status: str, now: datetime) -> list[str]:
        return []

    def on_priority_change(self, ticket: Ticket, now: datetime) -> list[str]:
        return []

    def current_due(self, ticket: Ticket) -> datetime | None:
        return None

    def state(self, ticket: Ticket, now: datetime) -> str:
        return "ok"


clock: Clock = _Untimed()


def register_clock(new: Clock) -> None:
    global clock
    clock = new
