"""The SLA as tickets see it: the clock registered with `tickets.lifecycle`.

Tickets sit below the SLA app and call it only through that hook (see `SlaConfig.ready`).
Each hook here moves the ticket's due times (`clock`), then arms its next timer (`timers`) in
the action's own transaction, and on a solve schedules the satisfaction survey (`csat`) for
after commit. This is the one module that ties the three together, so none of them imports
another to do it: the clock is arithmetic and state, the timers run checks, and follow-ups
write through the tickets actions, whose hook lands here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from walletdesk.sla import clock, csat, timers
from walletdesk.tickets.models import Ticket


def _arm(ticket: Ticket) -> None:
    """Arm the ticket's next timer in the action's own transaction.

    The timer rows and their task are written with the change that made them due, so a crash
    cannot lose them and a rolled-back change never leaves a timer behind. A new ticket has no
    primary key yet when `on_created` runs: `after_insert` arms it once it has one.
    """
    if ticket.pk is None:
        ticket._sla_schedule_after_insert = True
        ticket._sla_first_check = timers.first_check(ticket)
        return
    timers.schedule(ticket.pk, ticket=ticket)


def on_created(ticket: Ticket, now: datetime) -> list[str]:
    fields = clock.on_created(ticket, now)
    _arm(ticket)
    return fields


def after_insert(tickets: Sequence[Ticket]) -> None:
    """Arm the first timer of tickets just inserted (in one statement for all of them)."""
    # The flag stays set: if the transaction rolls back, writing the ticket again arms it again.
    timers.schedule_new([t for t in tickets if t._sla_schedule_after_insert])


def on_customer_message(ticket: Ticket, now: datetime) -> list[str]:
    fields = clock.on_customer_message(ticket, now)
    _arm(ticket)
    return fields


def on_agent_reply(ticket: Ticket, now: datetime) -> list[str]:
    fields = clock.on_agent_reply(ticket, now)
    _arm(ticket)
    return fields


def on_status_change(ticket: Ticket, old_status: str, now: datetime) -> list[str]:
    fields = clock.on_status_change(ticket, old_status, now)
    _arm(ticket)
    if ticket.status == "solved" and old_status != "solved":
        ticket_id = ticket.pk
        transaction.on_commit(lambda: csat.schedule_survey(ticket_id))
    return fields


def on_priority_change(ticket: Ticket, now: datetime) -> list[str]:
    fields = clock.on_priority_change(ticket, now)
    _arm(ticket)
    return fields


def current_due(ticket: Ticket) -> datetime | None:
    return clock.current_due(ticket)


def state(ticket: Ticket, now: datetime) -> str:
    return clock.sla_state(ticket, now)
