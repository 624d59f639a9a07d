"""The task worker's claim query, made independent of PostgreSQL's table statistics.

django-tasks-db claims a task with `… WHERE status = 'READY' AND (run_after = date max OR
run_after <= now()) ORDER BY priority DESC, run_after, enqueued_at LIMIT 1 FOR UPDATE SKIP
LOCKED`. Its partial index on exactly that order answers in one step. But the task table
grows by thousands of rows a minute in a burst, and until autovacuum has analysed it the
planner believes it nearly empty, so it chooses a bitmap scan of every ready row and a sort:
measured 15 ms of PostgreSQL CPU per claim with 8,000 tasks waiting, for every task, while
the web processes need that core.

So the claim's own transaction turns off bitmap scans and sorts (SET LOCAL: that transaction
only, nothing else the worker runs), which leaves the ordered index scan. With immediate tasks
due at their enqueue time (`core.queue`), the first index entry is the answer. SQLite walks
that index in order without being told.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django_tasks_db.models import DBTaskResultQuerySet

_stock_get_locked = DBTaskResultQuerySet.get_locked


def _get_locked(self: DBTaskResultQuerySet) -> Any:
    connection = connections[self.db]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            # SET LOCAL for both, in one round trip
            cursor.execute(
                "SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
            )
    return _stock_get_locked(self)


def install() -> None:
    """Called once from CoreConfig.ready()."""
    DBTaskResultQuerySet.get_locked = _get_locked  # type: ignore[method-assign]
