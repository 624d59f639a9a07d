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

from walletdesk.core import leases, queue, sweeps

log = logging.getLogger(__name__)


# Set by `walletdesk up` in its idle-priority worker: the supervisor's pid, which starts a
# catch-up worker at normal priority when this one signals SIGUSR1 (see `_lagging`).
BOOST_PARENT_ENV = "WALLETDESK_BOOST_PARENT"
# Set in the catch-up worker: it exits once it has caught up (see `run_task`).
CATCH_UP_ENV = "WALLETDESK_CATCH_UP"


def lag_of(db_task_result: Any) -> float:
    """Seconds the task waited since it was due (its enqueue time, or its run_after if later)."""
    due = max(db_task_result.enqueued_at, min(db_task_result.run_after, timezone.now()))
    return (timezone.now() - due).total_seconds()


class Worker(db_worker.Worker):
    _asked_at = 0.0
    _fresh_claims = 0

    def run_task(self, db_task_result: Any) -> None:
        lag = lag_of(db_task_result)
        self._lagging(lag)
        with queue.running(str(db_task_result.pk), self.worker_id):
            super().run_task(db_task_result)
        if os.environ.get(CATCH_UP_ENV):
            # Caught up when the tasks it claims were due less than half the boost threshold
            # ago, several times in a row: the idle-priority worker keeps up again alone.
            fresh = lag < settings.WORKER_BOOST_AFTER_SECONDS / 2
            self._fresh_claims = self._fresh_claims + 1 if fresh else 0
            if self._fresh_claims >= 20:
                log.info("catch-up worker %s: the queue is fresh again; exiting", self.worker_id)
                self.running = False

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
            super().run()
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            try:
                leases.forget(self.worker_id)
            except Exception:
                log.warning("could not remove the heartbeat of worker %s", self.worker_id, exc_info=True)

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
