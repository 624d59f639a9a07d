"""The task worker: django-tasks-db's `db_worker`, plus a heartbeat and the recovery sweeps.

Our `db_worker` command (core/management/commands/db_worker.py) runs this `Worker`. Before
its first claim it writes its heartbeat and runs every recovery sweep once (so a worker
restarted after a crash picks up what its predecessor left at once); then one thread renews
the heartbeat every `WORKER_HEARTBEAT_SECONDS` and another runs the sweeps (core.sweeps) every
`WORKER_SWEEP_SECONDS`, whatever task the main thread is busy with.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from walletdesk.core import leases, logs, metrics, queue, sweeps
from walletdesk.core.views import is_outage

log = logging.getLogger(__name__)
# One line per task run, at INFO (or WARNING when it failed): the task's path, id, outcome and
# time, under the request id it was enqueued with (core.queue). Never its arguments: they are
# ids, but a task's arguments are not a place we promise to keep free of customer data.
task_log = logging.getLogger("walletdesk.tasks")


class TaskCutShort(Exception):
    """A task stopped by a database or disk outage; handed back, not marked failed."""


# Set in the idle-priority worker that `walletdesk up`'s web server parent forks (core.serve):
# that parent's pid, which starts a catch-up worker at normal priority when this one signals
# SIGUSR1 (see `_lagging`).
BOOST_PARENT_ENV = "WALLETDESK_BOOST_PARENT"
# Set in the catch-up worker: it exits once it has caught up (see `run_task`).
CATCH_UP_ENV = "WALLETDESK_CATCH_UP"


def lag_of(db_task_result: Any) -> float:
    """Seconds the task waited since it was due (its enqueue time, or its run_after if later)."""
    due = max(db_task_result.enqueued_at, min(db_task_result.run_after, timezone.now()))
    return (timezone.now() - due).total_seconds()


class Worker(db_worker.Worker):
    # The task being run (its id and claim time) while it runs: see _hand_back_interrupted.
    _interrupted: tuple[Any, Any] | None = None
    _asked_at = 0.0
    _fresh_claims = 0

    def _lagging(self, lag: float) -> None:
        """Ask the supervisor for a catch-up worker when the claimed task waited too long.

        This worker runs at SCHED_IDLE under `walletdesk up` and cannot raise its own priority
        back (Linux needs CAP_SYS_NICE to leave SCHED_IDLE); its parent runs at normal priority
        and can start a second worker there. The lag of the task just claimed is the queue's
        age, known without a query.
        """
        parent = os.environ.get(BOOST_PARENT_ENV, "")
        if not parent.isdigit() or lag < settings.WORKER_BOOST_AFTER_SECONDS:
            return
        now = time.monotonic()
        if now - self._asked_at < 5:
            return
        self._asked_at = now
        try:
            os.kill(int(parent), signal.SIGUSR1)
        except OSError:  # the supervisor is gone: this worker is about to be stopped too
            return
        log.info("worker %s: tasks wait %.0f s; asked for a catch-up worker", self.worker_id, lag)

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
            self._run_through_outages()
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            try:
                leases.forget(self.worker_id)
            except Exception:
                log.warning("could not remove the heartbeat of worker %s", self.worker_id, exc_info=True)

    def _run_through_outages(self) -> None:
        """The stock loop, started again after a database outage instead of exiting.

        A PostgreSQL restart reached the stock worker's claim query or its `set_failed` and
        ended the process (seen in tests/faults): nothing then sent acknowledgements until a
        supervisor started another. Now the worker waits (0.5 s, doubling up to 5 s) and goes
        on; any other error still ends it.
        """
        pause = 0.5
        while True:
            try:
                self._hand_back_interrupted()
                super().run()
                return
            except Exception as exc:
                if not self.running or not is_outage(exc):
                    raise
                log.warning(
                    "worker %s: database unavailable (%s); waiting", self.worker_id, type(exc).__name__
                )
                connections.close_all()
                time.sleep(pause)
                pause = min(pause * 2, 5.0)

    def run_task(self, db_task_result: Any) -> None:
        lag = lag_of(db_task_result)
        self._lagging(lag)
        self._interrupted = (db_task_result.pk, db_task_result.started_at)
        give_up = db_task_result.set_failed

        def set_failed(exc: BaseException) -> None:
            # A task that failed because the database (or disk) went away is not a failed
            # task: it goes back to the queue once the outage ends (tasks are idempotent).
            if is_outage(exc):
                raise TaskCutShort(f"task {db_task_result.pk} met an outage") from exc
            give_up(exc)

        db_task_result.set_failed = set_failed
        stored = db_task_result.args_kwargs if isinstance(db_task_result.args_kwargs, dict) else {}
        rid = stored.get("request_id") if isinstance(stored.get("request_id"), str) else ""
        token = logs.bind(logs.Origin(rid) if rid else None)
        start = time.perf_counter()
        try:
            with queue.running(str(db_task_result.pk), self.worker_id):
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
        self._interrupted = None
        if os.environ.get(CATCH_UP_ENV):
            # Caught up when the tasks it claims were due less than half the boost threshold
            # ago, several times in a row: the idle-priority worker keeps up again alone.
            fresh = lag < settings.WORKER_BOOST_AFTER_SECONDS / 2
            self._fresh_claims = self._fresh_claims + 1 if fresh else 0
            if self._fresh_claims >= 20:
                log.info("catch-up worker %s: the queue is fresh again; exiting", self.worker_id)
                self.running = False

    def _hand_back_interrupted(self) -> None:
        """The task the outage cut short: its result could not be written, so it is still
        RUNNING under this (live) worker, with the runs it took along, and no sweep would
        ever hand them back. Back to the queue, as a dead worker's would be (tasks are
        idempotent on their own keys); a worker runs one task at a time, so every RUNNING row
        it claimed last is one of them."""
        if self._interrupted is None:
            return
        pk = self._interrupted[0]
        leases.hand_back_claims(self.worker_id, died=False)
        self._interrupted = None
        log.warning(
            "worker %s: task %s, cut short by the outage, handed back to the queue", self.worker_id, pk
        )

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
