"""The worker's claim: due tasks first, timers left alone, and on PostgreSQL a plan that does
not depend on the task table having been analysed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from tests.core.test_rows_and_queue import DB_TASKS, RAN, remember
from walletdesk.core import queue


def test_due_tasks_are_claimed_before_and_instead_of_armed_timers(
    transactional_db: None, settings: Any
) -> None:
    settings.TASKS = DB_TASKS
    RAN.clear()
    later = timezone.now() + timedelta(hours=8)
    with transaction.atomic(), queue.batch():
        for n in range(50):
            queue.enqueue(remember, run_after=later, word=f"timer {n}")
        queue.enqueue(remember, word="ack 1")
        queue.enqueue(remember, word="ack 2")
    with exclusive_transaction():
        first = DBTaskResult.objects.ready().get_locked()
    assert first is not None and first.args_kwargs["kwargs"]["word"] == "ack 1"
    call_command("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0", "--queue-name", "*")
    assert RAN == ["ack 1", "ack 2"]  # in order; the timers wait for their time
    assert DBTaskResult.objects.filter(status="READY").count() == 50


@pytest.mark.postgres
def test_postgres_claim_walks_the_index_without_statistics(
    transactional_db: None, postgres: None, settings: Any
) -> None:
    settings.TASKS = DB_TASKS
    later = timezone.now() + timedelta(hours=8)
    with transaction.atomic(), queue.batch():
        for n in range(3000):
            queue.enqueue(remember, run_after=later, word=f"timer {n}")
        queue.enqueue(remember, word="ack")
    table = DBTaskResult._meta.db_table
    with connection.cursor() as cursor:  # as after a burst on a fresh database: no statistics
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
        cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE oid = %s::regclass", [table])
    with exclusive_transaction(), connection.cursor() as cursor:
        DBTaskResult.objects.ready().get_locked()  # applies the claim's settings to this transaction
        claim = DBTaskResult.objects.ready().select_for_update(skip_locked=True)[:1]
        sql, params = claim.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using tasks_db_new_ordering_idx" in plan and "Sort" not in plan, plan
    with connection.cursor() as cursor:  # SET LOCAL: nothing leaks past the claim
        cursor.execute("SHOW enable_sort")
        assert cursor.fetchone() == ("on",)
