"""core.rows and core.queue write what the ORM and the task backend would have written.

They replace `save()`/`bulk_create()` and `Task.enqueue()` on the hottest write path, so the
proof is a comparison: the same objects written both ways read back identically, on SQLite and
(in CI's second pass) on PostgreSQL; and a task enqueued our way is run by the real worker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from walletdesk.core import queue, rows
from walletdesk.tickets.models import Contact, Ticket, TicketEvent

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}}
RAN: list[str] = []


@task()
def remember(word: str) -> None:
    RAN.append(word)


def _ticket(contact: Contact, reference: str, when: datetime) -> Ticket:
    return Ticket(
        reference=reference,
        subject="钱包被锁 wallet locked",
        contact=contact,
        priority="high",
        tags=["a", "b"],
        flags=[{"code": "fee_request", "excerpt": "pay 0.1 ETH"}],
        triage={"category": "login_locked", "matched": ["锁"]},
        created_at=when,
        updated_at=when,
        first_reply_due=when + timedelta(hours=4),
        tx_hash="0x" + "ab" * 32,
        search_text="wallet locked",
    )


def _row(ticket: Ticket) -> dict[str, Any]:
    values = Ticket.objects.filter(pk=ticket.pk).values().get()
    return {k: v for k, v in values.items() if k not in ("id", "reference")}


def test_insert_writes_what_save_writes(db: None) -> None:
    contact = Contact.objects.create(email="c@example.com")
    when = timezone.now().replace(microsecond=123456)
    by_orm = _ticket(contact, "WD-000000-AAAAAA", when)
    by_orm.save(force_insert=True)
    ours = _ticket(contact, "WD-000000-BBBBBB", when)
    with transaction.atomic():
        rows.insert([ours])
    assert ours.pk is not None and ours.pk != by_orm.pk
    assert not ours._state.adding
    assert _row(ours) == _row(by_orm)
    stored = Ticket.objects.get(pk=ours.pk)
    assert stored.created_at == when and stored.created_at.tzinfo is not None
    assert stored.flags == [{"code": "fee_request", "excerpt": "pay 0.1 ETH"}]
    assert stored.subject == "钱包被锁 wallet locked"


def test_insert_converts_other_time_zones_to_utc(db: None) -> None:
    contact = Contact.objects.create(email="tz@example.com")
    shanghai = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    local = shanghai.astimezone(timezone.get_fixed_timezone(480))  # 17:30 +08:00
    ticket = _ticket(contact, "WD-000000-CCCCCC", local)
    rows.insert([ticket])
    assert Ticket.objects.get(pk=ticket.pk).created_at == shanghai


def test_many_rows_beyond_one_statement_keep_their_own_keys(db: None) -> None:
    contact = Contact.objects.create(email="many@example.com")
    ticket = _ticket(contact, "WD-000000-DDDDDD", timezone.now())
    rows.insert([ticket])
    # More rows than SQLite takes parameters for in one statement: insert() splits them.
    events = [TicketEvent(ticket=ticket, kind="note", data={"n": n}) for n in range(2500)]
    rows.insert(events)
    stored = dict(TicketEvent.objects.filter(ticket=ticket).values_list("pk", "data"))
    assert len(stored) == 2500
    assert all(stored[e.pk] == {"n": n} for n, e in enumerate(events))


def test_enqueued_rows_match_the_backends_own_and_the_worker_runs_them(
    transactional_db: None, settings: Any
) -> None:
    settings.TASKS = DB_TASKS
    RAN.clear()
    remember.enqueue(word="stock")
    with transaction.atomic():
        queue.enqueue(remember, word="ours")
    stock, ours = (DBTaskResult.objects.get(args_kwargs__kwargs__word=w) for w in ("stock", "ours"))
    for field in ("status", "priority", "task_path", "queue_name", "backend_name"):
        assert getattr(ours, field) == getattr(stock, field), field
    # No delay: due at once. The backend writes "date max" for that, which its claim query
    # orders after every future timer; ours is the enqueue time, which orders first.
    assert ours.run_after == ours.enqueued_at
    assert ours.args_kwargs == {"args": [], "kwargs": {"word": "ours"}}
    call_command("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", "--queue-name", "*")
    assert sorted(RAN) == ["ours", "stock"]


def test_a_batch_writes_nothing_when_its_block_fails(db: None, settings: Any) -> None:
    settings.TASKS = DB_TASKS
    later = timezone.now() + timedelta(hours=1)
    with pytest.raises(RuntimeError), transaction.atomic(), queue.batch():
        queue.enqueue(remember, word="a")
        queue.enqueue(remember, run_after=later, word="b")
        assert not DBTaskResult.objects.exists()  # collected, not yet written
        raise RuntimeError("the action failed")
    assert not DBTaskResult.objects.exists()
    with transaction.atomic(), queue.batch():
        queue.enqueue(remember, word="a")
        queue.enqueue(remember, run_after=later, word="b")
    assert DBTaskResult.objects.count() == 2
    assert DBTaskResult.objects.get(args_kwargs__kwargs__word="b").run_after == later
