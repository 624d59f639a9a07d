"""The sent journal: a batch mail the server accepted is never sent again, whatever stopped its
worker before the database heard (connectors/email/journal.py).

What a customer would notice if it broke: the same acknowledgement twice (a journaled mail sent
again), or none (a mail taken for sent on a journal line that is not its own).
tests/core/test_worker_crash.py kills real workers; these tests build each state directly.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from tests.email.test_outbound_batch import DB_TASKS, _open
from walletdesk.connectors.email import journal
from walletdesk.connectors.email.models import OutboundEmail
from walletdesk.connectors.email.outbound import _record, recover_stalled, thread_headers
from walletdesk.tickets import tasks
from walletdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

IMMEDIATE = {
    "default": {
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "email", "sla"],
    }
}


@pytest.fixture(autouse=True)
def _own_journal(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(journal, "writer", journal.Writer())
    yield


def _on_the_wire(ticket: Ticket, lease_seconds: float) -> OutboundEmail:
    """The row of a mail its worker was sending: "sending", with a lease."""
    row = _record(ticket, "created", None, ticket.contact.email, thread_headers(ticket), None)
    row.lease_until = timezone.now() + timedelta(seconds=lease_seconds)
    row.save()
    return row


def _line(row: OutboundEmail, pk: int | None = None) -> str:
    return f"{pk or row.pk} {row.message_id_header} {time.time():.3f}\n"


def _journal_file(name: str, text: str) -> Path:
    path = journal.directory() / f"{name}{journal.SUFFIX}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_dead_workers_accepted_mails_are_recorded_sent_at_once_and_never_sent_again(settings: Any) -> None:
    settings.TASKS = DB_TASKS
    accepted, other_db, untried = _open("a@example.com", "b@example.com", "c@example.com")
    settings.TASKS = IMMEDIATE  # the re-sends recover_stalled queues run at once
    rows = [_on_the_wire(ticket, 300) for ticket in (accepted, other_db, untried)]
    # The killed worker's journal (no process holds its lock): the first mail was accepted; the
    # second line is another database's row that shares nothing but the Message-ID's shape.
    path = _journal_file("4242-dead", _line(rows[0]) + _line(rows[1], pk=rows[1].pk + 1000) + "99 cut-sh")
    assert recover_stalled() == 0  # the others' lease runs: their sender may be alive
    states = dict(OutboundEmail.objects.values_list("to_address", "state"))
    assert states == {"a@example.com": "sent", "b@example.com": "sending", "c@example.com": "sending"}
    assert not path.exists()  # read and settled: removed
    # Past the lease, the mails the journal does not know are sent again, once.
    OutboundEmail.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert recover_stalled() == 2
    assert sorted(m.to[0] for m in django_mail.outbox) == ["b@example.com", "c@example.com"]
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {"sent"}


def test_after_an_outage_a_live_workers_journaled_chunk_is_not_sent_again(settings: Any) -> None:
    """The worker lived but its chunk's UPDATE failed (PostgreSQL restarted): past the lease the
    sweep finds the accepted mails in its journal; only the one it never sent goes out."""
    settings.TASKS = DB_TASKS
    accepted, untried = _open("a@example.com", "b@example.com")
    settings.TASKS = IMMEDIATE
    rows = [_on_the_wire(ticket, -1) for ticket in (accepted, untried)]
    path = _journal_file("4243-live", _line(rows[0]))
    holder = os.open(path, os.O_RDONLY)  # its writer, alive: holds the lock
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert recover_stalled() == 1
        assert [m.to[0] for m in django_mail.outbox] == ["b@example.com"]
        sent = OutboundEmail.objects.get(pk=rows[0].pk)
        assert sent.state == "sent" and sent.attempts == 1 and sent.sent_at is not None
        assert path.exists()  # a live writer's file is its own to empty
    finally:
        os.close(holder)


def test_a_worker_records_its_leftovers_at_its_next_batch_and_keeps_its_journal_empty(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = DB_TASKS
    earlier, later = _open("a@example.com", "b@example.com")
    row = _on_the_wire(earlier, 300)
    # Accepted in an earlier batch whose UPDATE never came (the database went away).
    journal.writer.accepted(row.pk, row.message_id_header)
    own = journal.writer.path
    assert own is not None and own.read_text().startswith(f"{row.pk} ")
    with django_capture_on_commit_callbacks(execute=True):  # the worker's UPDATEs commit
        assert tasks.notify_customers.call(ticket_ids=[later.pk], kind="created") == "sent=1"
        assert own.stat().st_size > 0  # forgotten only once the database has it
    assert [m.to[0] for m in django_mail.outbox] == ["b@example.com"]
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {"sent"}
    assert own.stat().st_size == 0  # every line is in the database now
