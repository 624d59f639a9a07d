"""The live desk's side of a ticket change: a nudge to every agent socket, nothing more.

Registered in `DeskConfig.ready()` as a `tickets.live` listener. It runs inside the action's
transaction, on the ticket-creation hot path (the group-commit writer calls it once per
ticket), so it only reads attributes already on the ticket and hands one small dict to
`core.live.publish`, which sends it once the transaction commits. No query.

The nudge carries no subject, body or customer data: the channel layer (and, in the embedded
mode, the bridge table) is shared by every socket of every process. Each desk socket decides
from `team_id` whether its agent may see the ticket (`desk.consumers`), and the browser then
fetches what it may see through the ordinary pages.
"""

from __future__ import annotations

from walletdesk.core import live
from walletdesk.tickets.live import Change

GROUP = "desk"


def ticket_group(ticket_id: int) -> str:
    """The group of the agents watching one ticket (presence and typing)."""
    return f"ticket.{ticket_id}"


def on_ticket_change(change: Change) -> None:
    ticket = change.ticket
    live.publish(
        GROUP,
        {
            "type": "desk.ticket",
            "ticket_id": ticket.pk,
            "reference": ticket.reference,
            "team_id": ticket.team_id,
            "kind": change.kind,
            "version": ticket.version,
            "actor_id": change.actor_id,
        },
    )
