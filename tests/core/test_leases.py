"""Task leases and the worker's recovery sweeps, without killing anything (see
test_worker_crash.py for the real kills).

What a customer or agent would notice if it broke: an acknowledgement never sent because its
task stayed RUNNING after its worker died; one sent twice because a live worker's task was
taken from it; a breach never escalated because its check's task failed once; a mail left
"sending" forever.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.core.test_rows_and_queue import DB_TASKS, RAN, remember
from tests.sla.test_sla_timers import make
from walletdesk.connectors.email.models import OutboundEmail
from walletdesk.connectors.email.outbound import _record, recover_stalled, thread_headers
from walletdesk.core import leases, sweeps
from walletdesk.core.models import WorkerHeartbeat
from walletdesk.sla.models import SlaCheck
from walletdesk.tickets import actions, tasks
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _running(worker_ids: list[str], started_ago: float = 0) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [], "kwargs": {"word": worker_ids[-1] if worker_ids else "none"}},
        task_path="tests.core.test_rows_and_queue.remember",
        backend_name="default",
        run_after=now,
        worker_ids=worker_ids,
        started_at=now - timedelta(seconds=started_ago),
        exception_class_path="",
        traceback="",
    )


def _heartbeat(worker_id: str, *, host: str, pid: int, start: int, beat_ago: float) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        host=host,
        pid=pid,
        proc_start=start,
        started_at=now - timedelta(seconds=beat_ago + 1),
        beat_at=now - timedelta(seconds=beat_ago),
    )


def test_only_the_tasks_of_dead_workers_are_handed_back(db: None, settings: Any) -> None:
    settings.WORKER_LEASE_SECONDS = 60
    settings.TASK_MAX_ATTEMPTS = 3
    here, me = leases.host_id(), os.getpid()
    my_start = leases.proc_start(me) or 0
    # Alive: this very process, fresh heartbeat. Never taken from it, however long it runs.
    _heartbeat("alive", host=here, pid=me, start=my_start, beat_ago=1)
    alive = _running(["alive"], started_ago=3600)
    # Same machine, alive but starved of CPU (no beat for minutes): still its task.
    _heartbeat("starved", host=here, pid=me, start=my_start, beat_ago=600)
    starved = _running(["starved"], started_ago=3600)
    # Same machine, process gone: known dead at once, heartbeat still fresh.
    _heartbeat("killed", host=here, pid=_dead_pid(), start=1, beat_ago=1)
    killed = _running(["killed"])
    # Same machine, pid now someone else's (another start time): dead.
    _heartbeat("reused", host=here, pid=me, start=my_start + 1, beat_ago=1)
    reused = _running(["reused"])
    # Another machine: only the lease can tell.
    _heartbeat("remote-fresh", host="elsewhere", pid=1, start=1, beat_ago=5)
    remote_fresh = _running(["remote-fresh"], started_ago=3600)
    _heartbeat("remote-silent", host="elsewhere", pid=1, start=1, beat_ago=61)
    remote_silent = _running(["remote-silent"])
    # No heartbeat row at all: handed back once it has run longer than a lease.
    rowless_new = _running(["stock-worker-1"], started_ago=5)
    rowless_old = _running(["stock-worker-2"], started_ago=61)
    # A task that killed its worker three times: failed for good, not a fourth time.
    _heartbeat("third", host=here, pid=_dead_pid(), start=1, beat_ago=1)
    poison = _running(["first", "second", "third"])

    assert leases.requeue_orphans() == 5
    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status[alive.pk] == status[starved.pk] == "RUNNING"
    assert status[remote_fresh.pk] == status[rowless_new.pk] == "RUNNING"
    assert status[killed.pk] == status[reused.pk] == status[remote_silent.pk] == "READY"
    assert status[rowless_old.pk] == "READY"
    poison.refresh_from_db()
    assert poison.status == "FAILED" and poison.exception_class_path == "walletdesk.core.leases.WorkerDied"
    # Dead workers' rows are reaped; live ones stay.
    assert set(WorkerHeartbeat.objects.values_list("pk", flat=True)) == {"alive", "starved", "remote-fresh"}
    # A second sweep finds nothing more to do.
    assert leases.requeue_orphans() == 0


def test_a_hand_back_loses_to_a_new_claim(db: None) -> None:
    """The hand-back is conditional on the claim it judged: if the task was finished or claimed
    again meanwhile, it is left alone."""
    _heartbeat("killed", host=leases.host_id(), pid=_dead_pid(), start=1, beat_ago=1)
    task = _running(["killed"])
    DBTaskResult.objects.filter(pk=task.pk).update(status="SUCCESSFUL")
    assert leases.requeue_orphans() == 0
    assert DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL"


def test_a_live_worker_cut_short_by_an_outage_hands_back_its_claims_and_no_others(
    db: None, settings: Any
) -> None:
    """After a database outage the worker gives back the task it was running and the batches it
    took along (they are RUNNING under it, alive, so no sweep would), however often it was
    claimed before: an outage is not a death. Another worker's task stays its own."""
    settings.TASK_MAX_ATTEMPTS = 3
    mine = _running(["me"])
    taken_along = _running(["someone", "me"])
    claimed_often = _running(["me", "me", "me"])
    other = _running(["other"])
    earlier_mine = _running(["me", "other"])  # claimed by "other" since: not mine any more
    assert leases.hand_back_claims("me", died=False) == 3
    status = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert status[mine.pk] == status[taken_along.pk] == status[claimed_often.pk] == "READY"
    assert status[other.pk] == status[earlier_mine.pk] == "RUNNING"


def test_a_new_worker_runs_the_task_its_dead_predecessor_left_running(
    transactional_db: None, settings: Any
) -> None:
    settings.TASKS = DB_TASKS
    RAN.clear()
    remember.enqueue(word="left by a dead worker")
    task = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", worker_ids=["dead"], started_at=timezone.now()
    )
    _heartbeat("dead", host=leases.host_id(), pid=_dead_pid(), start=1, beat_ago=1)
    call_command("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", "--queue-name", "*")
    task.refresh_from_db()
    assert RAN == ["left by a dead worker"]
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2 and task.worker_ids[0] == "dead"
    assert not WorkerHeartbeat.objects.exists()  # the dead one reaped, the batch worker's removed


def test_the_worker_runs_an_overdue_sla_check_whose_task_was_lost(
    transactional_db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.conftest import ensure_seed_data

    ensure_seed_data()
    ticket = make(django_capture_on_commit_callbacks)  # a year ago; the immediate backend queues no timer
    (check,) = SlaCheck.objects.filter(ticket=ticket)
    assert check.claimed_at is None and check.run_at < timezone.now() - timedelta(days=1)
    assert "overdue SLA checks" in sweeps.registered()
    settings.TASKS = DB_TASKS
    assert not DBTaskResult.objects.exists()  # nothing would ever run it
    call_command("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", "--queue-name", "*")
    check.refresh_from_db()
    assert check.claimed_at is not None and check.outcome == "warned"


def test_the_sla_sweep_leaves_checks_within_the_grace_to_their_task(
    db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from walletdesk.sla import timers

    make(django_capture_on_commit_callbacks)
    SlaCheck.objects.update(run_at=timezone.now() - timedelta(seconds=30))
    settings.SLA_SWEEP_GRACE_SECONDS = 300
    assert timers.sweep_overdue_checks() == 0
    settings.SLA_SWEEP_GRACE_SECONDS = 10
    assert timers.sweep_overdue_checks() == 1


def _ticket(email: str) -> Ticket:
    (ticket,) = actions.create_tickets([NewTicket(subject="忘记密码", body="我忘记密码了", email=email)])
    assert isinstance(ticket, Ticket)
    return ticket


@pytest.mark.django_db
def test_a_mail_left_sending_past_its_lease_is_sent_again_once_with_its_message_id(settings: Any) -> None:
    settings.TASKS = DB_TASKS  # the acknowledgement is not sent inline
    stalled_ticket, busy_ticket = _ticket("stalled@example.com"), _ticket("busy@example.com")
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "email", "sla"],
        }
    }
    rows = []
    for ticket, lease in ((stalled_ticket, -1), (busy_ticket, 300)):
        row = _record(ticket, "created", None, ticket.contact.email, thread_headers(ticket), None)
        row.lease_until = timezone.now() + timedelta(seconds=lease)
        row.save()
        rows.append(row)
    stalled, busy = rows
    assert recover_stalled() == 1
    stalled.refresh_from_db()
    busy.refresh_from_db()
    assert stalled.state == "sent" and stalled.attempts == 2
    assert busy.state == "sending"  # its sender may still be talking to the server
    assert [m.to for m in mail.outbox] == [["stalled@example.com"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<{stalled.message_id_header}>"
    assert recover_stalled() == 0  # once


@pytest.mark.django_db
def test_a_rerun_sends_what_the_dead_run_recorded_but_never_tried(settings: Any) -> None:
    settings.TASKS = DB_TASKS
    tried, untried = _ticket("tried@example.com"), _ticket("untried@example.com")
    done = _record(tried, "created", None, "tried@example.com", thread_headers(tried), None)
    done.state = "sent"
    done.save()
    _record(
        untried, "created", None, "untried@example.com", thread_headers(untried), None, queued=True
    ).save()
    outcome = tasks.notify_customers.call(ticket_ids=[tried.pk, untried.pk], kind="created")
    assert outcome == "already_sent=1 sent=1"
    assert [m.to for m in mail.outbox] == [["untried@example.com"]]
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_solved_notice_is_sent_once_per_solve(settings: Any, alice: Any) -> None:
    settings.TASKS = DB_TASKS
    ticket = _ticket("solved@example.com")
    Ticket.objects.filter(pk=ticket.pk).update(status="solved", solved_at=timezone.now())
    assert tasks.notify_customer.call(ticket_id=ticket.pk, kind="solved") == "sent"
    assert tasks.notify_customer.call(ticket_id=ticket.pk, kind="solved") == "already_sent"  # re-run
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=timezone.now() + timedelta(seconds=5))
    assert tasks.notify_customer.call(ticket_id=ticket.pk, kind="solved") == "sent"  # solved again
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_poll_chain_a_dead_worker_ended_is_started_again(settings: Any) -> None:
    from walletdesk.connectors.email.models import Mailbox
    from walletdesk.connectors.email.tasks import keep_polling, poll_mailboxes

    settings.TASKS = DB_TASKS
    assert "mailbox poll chain" in sweeps.registered()
    assert keep_polling() == "no mailboxes"
    Mailbox.objects.create(name="support", host="127.0.0.1", username="support", security="none")
    DBTaskResult.objects.all().delete()  # the chain ended (its last run was handed back and quit)
    assert keep_polling() == "restarted"
    (task,) = DBTaskResult.objects.all()
    assert task.task_path == poll_mailboxes.module_path and task.status == "READY"
    assert keep_polling() == "polling"  # one chain: a second sweep adds nothing
    assert DBTaskResult.objects.count() == 1
