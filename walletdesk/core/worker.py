"""The task worker: django-tasks-db's `db_worker`, plus a heartbeat and the recovery sweeps.

Our `db_worker` command (core/management/commands/db_worker.py) runs this `Worker`. Before
its first claim it writes its heartbeat and runs every recovery sweep once (so a worker
restarted after a crash picks up what its predecessor left at once); then one thread renews
the heartbeat every `WORKER_HEARTBEAT_SECONDS` and another runs the sweeps (core.sweeps) every
`WORKER_SWEEP_SECONDS`, whatever task the main thread is busy with.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection, connections
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from walletdesk.core import leases, logs, metrics, sweeps

log = logging.getLogger(__name__)
# One line per task run, at INFO (or WARNING when it failed): the task's path, id, outcome and
# time, under the request id it was enqueued with (core.queue). Never its arguments: they are
# ids, but a task's arguments are not a place we promise to keep free of customer data.
task_log = logging.getLogger("walletdesk.tasks")


class Worker(db_worker.Worker):
    def run(self) -> None:
        leases.beat(self.worker_id)
        sweeps.run_all()
        stop = threading.Event()
        threads: list[threading.Thread] = []
        # An in-memory SQLite database (tests calling the command in-process) is one
        # connection's: a thread would open another, empty, database.
        if not (connection.vendor == "sqlite" and getattr(connection, "is_in_memory_db", bool)()):
            # Two threads: a slow sweep must never delay the heartbeat past the lease, or
            # another worker would take this one's running task while it still runs.
            threads = [
                threading.Thread(target=self._beating, args=(stop,), name="worker-heartbeat", daemon=True),
                threading.Thread(target=self._sweeping, args=(stop,), name="worker-sweeps", daemon=True),
            ]
            for thread in threads:
                thread.start()
        try:
            super().run()
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            try:
                leases.forget(self.worker_id)
            except Exception:
                log.warning("could not remove the heartbeat of worker %s", self.worker_id, exc_info=True)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        stored = db_task_result.args_kwargs if isinstance(db_task_result.args_kwargs, dict) else {}
        rid = stored.get("request_id") if isinstance(stored.get("request_id"), str) else ""
        token = logs.bind(logs.Origin(rid) if rid else None)
        start = time.perf_counter()
        try:
            super().run_task(db_task_result)
        finally:
            seconds = time.perf_counter() - start
            status = str(db_task_result.status)
            path = db_task_result.task_path
            metrics.task_ran(path, status.lower(), seconds)
            level = logging.INFO if status == "SUCCESSFUL" else logging.WARNING
            if task_log.isEnabledFor(level):
                task_log.log(
                    level,
                    "task %s %s in %.0f ms",
                    path,
                    status.lower(),
                    seconds * 1000,
                    extra={
                        "task": path,
                        "task_id": str(db_task_result.id),
                        "task_status": status.lower(),
                        "queue": db_task_result.queue_name,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )
            logs.unbind(token)

    def _beating(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                try:
                    leases.beat(self.worker_id)
                except Exception:  # a locked or restarting database: the next beat retries
                    log.warning("heartbeat of worker %s failed", self.worker_id, exc_info=True)
                    connections.close_all()
        finally:
            connections.close_all()  # this thread's own connections

    def _sweeping(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(settings.WORKER_SWEEP_SECONDS):
                sweeps.run_all()
                connections.close_all()
        finally:
            connections.close_all()
