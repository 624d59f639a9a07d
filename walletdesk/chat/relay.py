"""Ticket changes that a live chat's sockets must hear of (registered in ChatConfig.ready)."""

from __future__ import annotations

from walletdesk.tickets.live import Change


def on_ticket_change(change: Change) -> None:
    return None
