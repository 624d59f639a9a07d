"""`db_worker`: django-tasks-db's worker with a heartbeat and the recovery sweeps (core.worker).

Same options and behaviour as the stock command; it shadows it because `walletdesk.core` is
listed before `django_tasks_db` in INSTALLED_APPS, so `walletdesk manage db_worker` (and
`walletdesk up`) can only start a worker whose tasks are handed back if it dies.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands import db_worker

from walletdesk.core.worker import Worker


class Command(db_worker.Command):
    help = "Run a database background worker (with a heartbeat, and recovery of dead workers' tasks)"

    def handle(self, *args: Any, **options: Any) -> None:
        # The stock handle() builds the module's `Worker`; give it ours for this call.
        stock = db_worker.Worker
        db_worker.Worker = Worker  # type: ignore[misc]
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = stock  # type: ignore[misc]
