"""Tickets opened together: the mail poller's batches and the API's group commit.

What a user would notice if these broke: a ticket that was answered 201 but is missing, two
tickets for one message, someone else's bad request costing them their ticket, or a batch
that behaves differently from opening the same tickets one at a time.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tests import asgi
from tests.conftest import ensure_seed_data
from walletdesk.sla import clock as sla
from walletdesk.tickets import actions, intake
from walletdesk.tickets.actions import DuplicateMessage, NewTicket, TicketError
from walletdesk.tickets.models import Channel, Contact, Message, Ticket, TicketEvent


def _new(n: int, **extra: Any) -> NewTicket:
    values: dict[str, Any] = {
        "subject": f"钱包被锁 {n}",
        "body": f"I entered the wrong password too many times ({n}).",
        "email": f"batch{n}@example.com",
    }
    values.update(extra)
    return NewTicket(**values)


def test_a_batch_opens_the_same_tickets_as_one_by_one(seeded: None) -> None:
    one = actions.create_ticket(_new(1, email="same@example.com"))
    batch = actions.create_tickets([_new(2, email="same@example.com"), _new(3), _new(4)])
    tickets = [one, *batch]
    assert all(isinstance(t, Ticket) for t in tickets)
    stored = {t.reference: t for t in Ticket.objects.select_related("category", "team")}
    assert len(stored) == 4
    for ticket in tickets:
        assert isinstance(ticket, Ticket)
        again = stored[ticket.reference]
        # triage, team, SLA promise and history are the same whichever way it was written
        assert again.category.slug == "login_locked"
        assert again.team_id == one.team_id and again.priority == one.priority
        assert again.first_reply_due is not None
        assert TicketEvent.objects.filter(ticket=again, kind="created").count() == 1
        assert Message.objects.filter(ticket=again).count() == 1
    # the known email is the same contact; new emails are new contacts, once each
    assert batch[0].contact_id == one.contact_id  # type: ignore[union-attr]
    assert Contact.objects.count() == 3


def test_a_bad_request_in_a_batch_is_answered_alone(seeded: None) -> None:
    results = actions.create_tickets([_new(1), _new(2, subject=""), _new(3, priority="whenever")])
    assert isinstance(results[0], Ticket)
    assert isinstance(results[1], TicketError) and results[1].field == "subject"
    assert isinstance(results[2], TicketError) and results[2].code == "unknown_priority"
    assert Ticket.objects.count() == 1


def test_one_message_twice_in_a_batch_is_one_ticket_and_a_duplicate(seeded: None) -> None:
    """Two drafts of one provider message make the batch's INSERT fail on the unique id; the
    tickets are then written one by one, and the second is answered as a duplicate."""
    first = actions.draft(_new(1, channel=Channel.EMAIL, external_id="<m1@example.com>"))
    second = actions.draft(_new(2, channel=Channel.EMAIL, external_id="<m1@example.com>"))
    third = actions.draft(_new(3, channel=Channel.EMAIL, external_id="<m3@example.com>"))
    results = actions.write_drafts([first, second, third])
    assert isinstance(results[0], Ticket) and isinstance(results[2], Ticket)
    assert isinstance(results[1], DuplicateMessage)
    assert results[1].extra["reference"] == results[0].reference
    assert Ticket.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_api_creations_each_get_their_own_committed_ticket() -> None:
    """Outside a transaction, intake.create_ticket hands drafts to the process's writer
    thread; every caller gets its own ticket back, already committed, and bad input is
    refused to its sender only."""
    ensure_seed_data()
    actions.create_ticket(_new(0))  # warm the per-process caches before the threads start
    assert not connection.in_atomic_block
    results: dict[int, Any] = {}

    def open_one(n: int) -> None:
        try:
            results[n] = intake.create_ticket(_new(n, subject="" if n == 7 else f"locked {n}"))
        except TicketError as exc:
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(1, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert isinstance(results.pop(7), TicketError)
    assert len(results) == 11 and all(isinstance(t, Ticket) for t in results.values())
    references = {t.reference for t in results.values()}
    assert len(references) == 11
    # committed: visible to this thread's own connection, each exactly once
    stored = set(Ticket.objects.filter(reference__in=references).values_list("reference", flat=True))
    assert stored == references


async def _asgi_post(body: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    headers = [(b"content-type", b"application/json")]
    return await asgi.request("POST", "/api/v1/tickets", json.dumps(body).encode(), headers)


@pytest.mark.django_db(transaction=True)
def test_the_server_answers_concurrent_creations_after_their_group_commit(monkeypatch: Any) -> None:
    """Through the real ASGI handler, ticket creation is answered by a deferred response:
    each client gets 201 with its own reference (committed, the same fields as the test
    client's synchronous answer, a correct Content-Length); bad input is refused as usual."""
    ensure_seed_data()
    write_drafts = actions.write_drafts

    def write_then_expire_caches(drafts: Any) -> Any:
        # The per-process caches expire between drafting and answering now and then (30 s
        # TTL); the answer must still render (seen in the benchmark: rendering on the event
        # loop, where the ORM may not run, failed with a 500 after the ticket had committed).
        outcomes = write_drafts(drafts)
        sla.forget()
        actions.forget_categories()
        return outcomes

    monkeypatch.setattr(actions, "write_drafts", write_then_expire_caches)
    payloads = [
        {"email": f"d{n}@example.com", "subject": f"钱包被锁 {n}", "body": "wallet locked"} for n in range(8)
    ]

    async def all_at_once() -> list[tuple[int, dict[bytes, bytes], bytes]]:
        bad = {"email": "x@example.com", "subject": "", "body": "b"}
        return await asyncio.gather(*(_asgi_post(p) for p in [*payloads, bad]))

    answers = asyncio.run(all_at_once())
    *good, bad = answers
    assert bad[0] == 422 and json.loads(bad[2])["field"] == "subject"
    references = set()
    for status, headers, body in good:
        assert status == 201
        assert int(headers[b"content-length"]) == len(body)
        assert headers[b"content-security-policy"]  # middleware still ran
        data = json.loads(body)
        references.add(data["reference"])
    assert len(references) == 8
    assert set(Ticket.objects.values_list("reference", flat=True)) >= references
    sync = Client().post("/api/v1/tickets", data=json.dumps(payloads[0]), content_type="application/json")
    assert sync.status_code == 201
    assert set(sync.json()) == set(json.loads(good[0][2]))
    assert json.loads(good[0][2])["category"] == sync.json()["category"] == "login_locked"


DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}}


def test_a_batch_is_acknowledged_by_one_task_the_worker_runs(transactional_db: None, settings: Any) -> None:
    """Tickets committed together get one acknowledgement task; every customer with an email
    address still gets their own acknowledgement, once."""
    from django.core import mail as django_mail
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    ensure_seed_data()  # committed: the real worker below runs outside a test transaction
    settings.TASKS = DB_TASKS
    batch = actions.create_tickets(
        [
            _new(1),
            _new(2),
            _new(3, email=None, identity=(Channel.INAPP, "app-user-7"), channel=Channel.INAPP),
            _new(4),
        ]
    )
    tickets = [t for t in batch if isinstance(t, Ticket)]
    assert len(tickets) == 4
    (job,) = DBTaskResult.objects.filter(task_path__endswith="notify_customers")
    # the in-app user without an email address has no channel to be told on
    expected = {"ticket_ids": [tickets[0].pk, tickets[1].pk, tickets[3].pk], "kind": "created"}
    assert job.args_kwargs["kwargs"] == expected
    assert not DBTaskResult.objects.filter(task_path__endswith="notify_customer").exists()

    call_command("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", "--queue-name", "email")
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL" and job.return_value == "sent=3"
    subjects = {m.to[0]: m.subject for m in django_mail.outbox}
    assert len(django_mail.outbox) == 3
    for n in (1, 2, 4):
        assert tickets[n - 1].reference in subjects[f"batch{n}@example.com"]


def test_one_failing_acknowledgement_does_not_stop_the_others(
    seeded: None, monkeypatch: Any, settings: Any
) -> None:
    from django.core import mail as django_mail

    from walletdesk.tickets import channels, tasks

    settings.TASKS = DB_TASKS  # queued, not sent: this test runs the task itself
    tickets = [t for t in actions.create_tickets([_new(1), _new(2), _new(3)]) if isinstance(t, Ticket)]
    assert django_mail.outbox == []
    email_sender = channels._senders[Channel.EMAIL]
    broken = tickets[1].pk

    def flaky(ticket: Ticket, kind: str, message: Message | None) -> str:
        if ticket.pk == broken:
            raise ConnectionError("the template server is down")
        return email_sender(ticket, kind, message)

    monkeypatch.setitem(channels._senders, Channel.EMAIL, flaky)
    monkeypatch.delitem(channels._batch_senders, Channel.EMAIL)  # the one-by-one path
    ids = [t.pk for t in tickets]
    with pytest.raises(tasks.NotifyFailed, match=rf"tickets \[{broken}\]"):
        tasks.notify_customers.call(ticket_ids=ids, kind="created")
    assert sorted(m.to[0] for m in django_mail.outbox) == ["batch1@example.com", "batch3@example.com"]

    # Run again once the fault is gone: the one that failed goes out, nobody gets two.
    monkeypatch.setitem(channels._senders, Channel.EMAIL, email_sender)
    again = tasks.notify_customers.call(ticket_ids=[*ids, 10**9], kind="created")
    assert again == "already_sent=2 sent=1 skipped=1"
    assert sorted(m.to[0] for m in django_mail.outbox) == [f"batch{n}@example.com" for n in (1, 2, 3)]


@pytest.mark.django_db
def test_a_new_ticket_writes_only_the_indexes_something_reads() -> None:
    """Every index on the ticket table is written on every new ticket (see models.Ticket.Meta):
    the ones no query uses were dropped by a migration, on both backends, leaving full-text
    search (SQLite's triggers, PostgreSQL's GIN index) in place."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Ticket._meta.db_table)
    indexes = {name for name, c in constraints.items() if c["index"] and not c["unique"]}
    common = {
        "ticket_due_idx",
        "ticket_assignee_idx",
        "ticket_team_idx",
        "ticket_contact_idx",
        "ticket_follow_up_idx",
        "ticket_merged_idx",
        "tickets_ticket_category_id_710dbfd0",
        "ticket_period_idx",
    }
    if connection.vendor == "postgresql":
        # The reference's pattern-ops twin (prefix search) and full-text search.
        assert indexes == common | {"tickets_ticket_reference_69015271_like", "tickets_ticket_search_gin"}
    else:
        assert indexes == common
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets_ticket'"
            )
            assert {name for (name,) in cursor.fetchall()} == {
                "tickets_ticket_fts_ai",
                "tickets_ticket_fts_au",
                "tickets_ticket_fts_ad",
            }
