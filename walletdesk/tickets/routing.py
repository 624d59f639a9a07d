"""Where a new ticket goes: its team, and (later) an agent in that team.

`route()` runs inside `create_ticket`'s transaction, before the insert, on the unsaved ticket.
Today the team comes from the category (or the channel's own choice); routing rules and
assignment within a team plug in here.
"""

from __future__ import annotations

from walletdesk.tickets.models import Team, Ticket


def route(ticket: Ticket, text: str, *, requested_team: Team | None = None) -> None:
    if requested_team is not None:
        ticket.team = requested_team
    elif ticket.category is not None:
        ticket.team = ticket.category.default_team
