"""A web process serves a request while another of its requests waits on the database (#23).

With one sync thread per process, an agent's reply waiting for a ticket's row lock (held by a
task worker, say) held up every other request of that process: the other agents' inbox polls,
the customers' pages, the chat sockets. Under the mixed load (bench/load.py) that was every
request waiting on each other's database round trips. These tests go through the real ASGI
application with its default number of sync threads, on SQLite (where the wait is the writer
lock another connection holds) and on PostgreSQL (the ticket's row lock).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from tests import asgi
from walletdesk.accounts.actions import issue_api_token
from walletdesk.core.asgi import close_connections
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket


async def _asgi(method: str, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    headers = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]
    status, _headers, answer = await asgi.request(method, path, raw, headers)
    return status, json.loads(answer)


class _LockHolder(threading.Thread):
    """Another connection holding the ticket's row (PostgreSQL) or the writer lock (SQLite)
    in an open transaction until told to let go: a task worker in the middle of its work."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(daemon=True)
        self.ticket_id = ticket_id
        self.holding = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().filter(pk=self.ticket_id).update(tags=["held"])
                self.holding.set()
                self.release.wait(timeout=120)
        finally:
            connections.close_all()


def _a_request_waits_for_the_lock() -> bool:
    """Whether some connection is blocked on the lock the holder keeps: PostgreSQL says so in
    pg_stat_activity; SQLite's writer lock is a flock, whose waiters Linux lists in /proc/locks."""
    if connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                return bool(cursor.fetchone()[0])
        finally:
            connection.close()
    inode = os.stat(str(connection.settings_dict["NAME"]) + ".writer-lock").st_ino
    with open("/proc/locks") as locks:
        return any("->" in line and f":{inode} " in line for line in locks)


@pytest.mark.django_db(transaction=True)
def test_an_inbox_poll_is_answered_while_a_reply_waits_for_the_ticket_lock(alice: Any) -> None:
    ticket = actions.create_ticket(
        NewTicket(subject="Withdrawal pending", body="Still pending after a day.", email="c@example.com")
    )
    token = issue_api_token(alice, name="threads test")
    holder = _LockHolder(ticket.pk)
    holder.start()
    assert holder.holding.wait(timeout=30)

    async def scenario() -> tuple[bool, tuple[int, Any], tuple[int, Any]]:
        reply = asyncio.ensure_future(
            _asgi("POST", f"/api/v1/tickets/{ticket.reference}/messages", token, {"body": "We are on it."})
        )
        try:
            for _ in range(600):  # until the reply is blocked (a guard of a minute, not a timing)
                if await asyncio.to_thread(_a_request_waits_for_the_lock):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the reply never reached the lock")
            # Not a timing: a deadlock guard. With one sync thread per process the poll waits
            # behind the reply, which waits for the lock this test releases only afterwards.
            poll = await asyncio.wait_for(_asgi("GET", "/api/v1/tickets?view=unassigned", token), 60)
            reply_was_waiting = not reply.done()
        finally:
            holder.release.set()
        return reply_was_waiting, poll, await reply

    try:
        reply_was_waiting, (poll_status, inbox), (reply_status, _) = asyncio.run(scenario())
    finally:
        holder.release.set()
        holder.join(timeout=30)
        close_connections()
    assert poll_status == 200 and ticket.reference in [item["reference"] for item in inbox["items"]]
    assert reply_was_waiting  # the poll was answered while the reply still waited for the lock
    assert reply_status == 201  # and the reply went through once the lock was let go
    assert Message.objects.filter(ticket=ticket, body="We are on it.").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).tags == ["held"]
