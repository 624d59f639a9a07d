"""The live desk's side of a ticket change: a nudge to every agent socket, nothing more.

Registered in `DeskConfig.ready()` as a `tickets.live` listener. It runs inside the action's
transaction, on the ticket-creation hot path (the group-commit writer calls it once per
ticket), so it only reads attributes already on the ticket: no query. What it hands on is
small, and only once the transaction commits (a rolled-back change nudges nobody).

A nudge carries no subject, body or customer data: the channel layer (and, in the embedded
mode, the bridge table) is shared by every socket of every process. Each desk socket decides
from `team_id` whether its agent may see the ticket (`desk.consumers`), and the browser then
fetches what it may see through the ordinary pages.

Changes are sent in batches: the committed changes of the last `FLUSH_SECONDS` in this process
go out as one event, `{"type": "desk.tickets", "changes": [{"ticket_id", "reference",
"team_id", "kind", "version", "actor_id"}, ...]}`, from a small thread of its own. At a few
hundred new tickets a second that is a handful of events (and, in the embedded mode, of rows in
the bridge table) instead of one per ticket, and each desk socket wakes a few times a second
instead of once per ticket. A quiet desk sees a change 0.1 s later.
"""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any

from django.db import connection, transaction

from walletdesk.core import live
from walletdesk.tickets.live import Change

GROUP = "desk"
FLUSH_SECONDS = 0.1
MAX_BATCH = 500

_pending: list[dict[str, Any]] = []
_lock = threading.Lock()
_wake = threading.Event()
_thread: threading.Thread | None = None


def ticket_group(ticket_id: int) -> str:
    """The group of the agents watching one ticket (presence and typing)."""
    return f"ticket.{ticket_id}"


def on_ticket_change(change: Change) -> None:
    ticket = change.ticket
    item = {
        "ticket_id": ticket.pk,
        "reference": ticket.reference,
        "team_id": ticket.team_id,
        "kind": change.kind,
        "version": ticket.version,
        "actor_id": change.actor_id,
    }
    if connection.in_atomic_block:
        transaction.on_commit(partial(_queue, item))
    else:
        _queue(item)


def _queue(item: dict[str, Any]) -> None:
    global _thread
    with _lock:
        _pending.append(item)
        first = len(_pending) == 1
        if _thread is None or not _thread.is_alive():  # none yet, or this is a forked child
            _thread = threading.Thread(target=_run, name="desk-nudges", daemon=True)
            _thread.start()
    if first:
        _wake.set()


def _run() -> None:
    while True:
        _wake.wait()
        time.sleep(FLUSH_SECONDS)
        flush()


def flush() -> None:
    """Send what is pending now (the thread does this every FLUSH_SECONDS; tests may too)."""
    with _lock:
        batch = _pending[:]
        _pending.clear()
        _wake.clear()
    for start in range(0, len(batch), MAX_BATCH):
        live.publish(GROUP, {"type": "desk.tickets", "changes": batch[start : start + MAX_BATCH]})
