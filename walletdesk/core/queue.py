"""Enqueue tasks inside the caller's transaction, cheaply.

Actions enqueue their follow-up tasks inside their own transaction (the task table is in the
same database, so the row and its job commit together). `Task.enqueue()` on django-tasks-db
costs a `Model.objects.create()` plus building a TaskResult nobody reads: about 0.5 ms per
task, two tasks per new ticket. `enqueue_many()` writes the same rows — the same columns and
values the backend writes — with one INSERT per batch, and still sends `task_enqueued` when
something listens. Other backends (the immediate backend in tests, say) get the stock call.
One difference on purpose: a task with no delay is due at its enqueue time, not at "date
max" (see `enqueue_many`).

`task_named()` and `enqueue_named()` let a module enqueue a task of a module above it without
importing it (see `task_named`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connections
from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus, normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from walletdesk.core import logs, rows

# Django's own receiver only writes a DEBUG log line; building the TaskResult it needs costs
# more than the INSERT, so the signal is sent when someone else listens or DEBUG logs are on.
_tasks_log = logging.getLogger("django.tasks")


def _signal_wanted() -> bool:
    return len(task_enqueued.receivers) > 1 or _tasks_log.isEnabledFor(logging.DEBUG)


Call = tuple[Task[Any, Any], dict[str, Any]]


_batch = threading.local()


@contextmanager
def batch() -> Iterator[None]:
    """Collect the enqueues made inside this block and write them in one INSERT at its end.

    Use it inside the transaction (a ticket creation enqueues its SLA timer and its
    acknowledgement from two places; one statement instead of two). If the block raises,
    nothing is written: the tasks were never enqueued, as the transaction never happened.
    """
    outer = getattr(_batch, "calls", None)
    if outer is not None:  # nested: the outermost batch writes
        yield
        return
    calls: list[Call] = []
    _batch.calls = calls
    try:
        yield
        _batch.calls = None
        enqueue_many(calls)
    finally:
        _batch.calls = None


def enqueue(task: Task[Any, Any], /, run_after: datetime | None = None, **kwargs: Any) -> None:
    enqueue_many([(task.using(run_after=run_after) if run_after else task, kwargs)])


def task_named(path: str) -> Task[Any, Any]:
    """The task at the dotted `path` ("walletdesk.accounts.tasks.send_unlock_link"), looked up now.

    A tasks module imports the actions its tasks run; an action that enqueues a follow-up task
    names it by its path instead of importing the tasks module back (which would close a circle,
    even from inside a function). The path is what the task table stores and what the worker
    imports to run the row, so naming a task this way is naming it as the queue does. The
    lookup is a dict hit once the module is loaded. A wrong path raises at the first enqueue
    (ImportError, or TypeError for something that is not a task), so a test that reaches the
    enqueue catches a rename.
    """
    task = import_string(path)
    if not isinstance(task, Task):
        raise TypeError(f"{path} is not a task (got {type(task).__name__})")
    return task


def enqueue_named(path: str, /, run_after: datetime | None = None, **kwargs: Any) -> None:
    """`enqueue()` for the task at `path` (see `task_named`); collected by `batch()` like it."""
    enqueue(task_named(path), run_after=run_after, **kwargs)


def enqueue_many(calls: Iterable[Call]) -> None:
    collecting = getattr(_batch, "calls", None)
    if collecting is not None:
        collecting.extend(calls)
        return
    pending: list[dict[str, Any]] = []
    now = timezone.now()
    # The request (or batch of requests) this work comes from: stored beside the arguments, so
    # the worker logs the task under the same id (core.logs, core.worker). The worker reads only
    # "args" and "kwargs".
    origin = logs.request_id()
    for task, kwargs in calls:
        backend = task.get_backend()
        if not isinstance(backend, DatabaseBackend):
            task.enqueue(**kwargs)
            continue
        backend.validate_task(task)
        pending.append(
            {
                "id": backend._get_id(),
                "status": TaskResultStatus.READY,
                "enqueued_at": now,
                "args_kwargs": normalize_json(
                    {"args": [], "kwargs": kwargs, "request_id": origin}
                    if origin
                    else {"args": [], "kwargs": kwargs}
                ),
                "priority": task.priority,
                "task_path": task.module_path,
                "queue_name": task.queue_name,
                # The backend stores "no delay" as date max. The worker's claim orders by
                # run_after, so such rows come after every armed SLA timer (one per open
                # ticket, hours ahead), and each claim walked past all of them: 1-15 ms per
                # task at 10k tickets. "Due now" sorts first and means the same to it.
                "run_after": task.run_after or now,
                "backend_name": backend.alias,
                "exception_class_path": "",
                "traceback": "",
            }
        )
    rows.insert_values(DBTaskResult, pending)
    if pending and _signal_wanted():
        for values in pending:
            result = DBTaskResult.objects.get(pk=values["id"])
            task_enqueued.send(DatabaseBackend, task_result=result.task_result)


# The task the worker of this thread is running (core.worker sets it around each task): the
# running task's id and the worker's id, so a task can claim more of its own kind (`take_more`).
_running = threading.local()


@contextmanager
def running(task_id: str, worker_id: str) -> Iterator[None]:
    _running.claim = (task_id, worker_id)
    try:
        yield
    finally:
        _running.claim = None


def take_more(
    task: Task[Any, Any],
    room: int,
    *,
    same: dict[str, Any] | None = None,
    weight: Callable[[dict[str, Any]], int] = lambda _kwargs: 1,
) -> list[tuple[str, dict[str, Any]]]:
    """Claim more READY runs of `task` for the worker running this one: [(id, kwargs)].

    Runs whose kwargs match `same` are taken, oldest due first, while their `weight` adds up
    to at most `room`.

    A task that is cheaper in bulk (acknowledgements: one SMTP connection, one UPDATE per chunk)
    runs its queued siblings with it instead of leaving each to its own claim. They are claimed
    exactly as the worker claims a task (RUNNING, this worker's id appended to `worker_ids`,
    `started_at`), so if this worker dies `core.leases` hands each one back like any task of a
    dead worker, and its re-run is idempotent on its own keys; the caller settles them with
    `settle()`. Outside a worker (a test calling the task, the immediate backend) it takes nothing.
    """
    claim = getattr(_running, "claim", None)
    backend = task.get_backend()
    if claim is None or room <= 0 or not isinstance(backend, DatabaseBackend):
        return []
    own_id, worker_id = claim
    tasks = (
        DBTaskResult.objects.ready()
        .filter(task_path=task.module_path, backend_name=backend.alias, queue_name=task.queue_name)
        .filter(**{f"args_kwargs__kwargs__{key}": value for key, value in (same or {}).items()})
        .exclude(pk=own_id)
    )
    now = timezone.now()
    with exclusive_transaction(tasks.db):
        connection = connections[tasks.db]
        if connection.vendor == "postgresql":  # the claim's plan (core.taskclaim)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
                )
        candidates = tasks.select_for_update(skip_locked=True).values_list("pk", "worker_ids", "args_kwargs")
        found = []
        for pk, ids, args_kwargs in candidates[: min(room, 500)]:
            room -= weight(args_kwargs.get("kwargs", {}))
            if room < 0:
                break
            found.append((pk, ids, args_kwargs))
        fresh = [str(pk) for pk, ids, _ in found if not ids]
        if fresh:
            DBTaskResult.objects.filter(pk__in=fresh).update(
                status=TaskResultStatus.RUNNING, started_at=now, worker_ids=[worker_id]
            )
        for pk, ids, _ in found:
            if ids:  # run before by a worker that died: its attempts still count
                DBTaskResult.objects.filter(pk=pk).update(
                    status=TaskResultStatus.RUNNING, started_at=now, worker_ids=[*ids, worker_id]
                )
    return [(str(pk), dict(args_kwargs.get("kwargs", {}))) for pk, _ids, args_kwargs in found]


def settle(
    done: dict[str, str], failed: dict[str, str], *, error_class: type[BaseException] = Exception
) -> None:
    """Record the outcome of runs claimed with `take_more`: {id: summary} and {id: message}, the
    failures recorded as raised by `error_class` (the caller's exception class; core imports no app)."""
    if not done and not failed:
        return
    now = timezone.now()
    by_summary: dict[str, list[str]] = {}
    for pk, summary in done.items():
        by_summary.setdefault(summary, []).append(pk)
    for summary, pks in by_summary.items():
        DBTaskResult.objects.filter(pk__in=pks, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.SUCCESSFUL,
            finished_at=now,
            return_value=summary,
            exception_class_path="",
            traceback="",
        )
    for pk, error in failed.items():
        DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=f"{error_class.__module__}.{error_class.__qualname__}",
            traceback=f"{error}\n",
        )
