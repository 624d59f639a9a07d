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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.tasks import Task
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus, normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult

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
