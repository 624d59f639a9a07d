"""The chain monitor's tasks. Tasks take ids.

`follow_chain(chain_id, at)` follows one chain until caught up, then enqueues its own next run
`CHAIN_POLL_SECONDS` later. `at` is the run's scheduled time, also written on the cursor: a
run whose `at` is not the cursor's is a stale duplicate (the sweep re-armed the chain while a
run was queued) and ends without rescheduling, so one chain never grows two task chains. The
worker's recovery sweep (`sweep_stalled`) re-arms a chain whose runs stopped (a worker killed
mid-run: its lease runs out and the next run resumes from the stored cursor).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from walletdesk.chain import monitor
from walletdesk.chain.models import Chain, ChainCursor
from walletdesk.core import queue


def poll_seconds() -> float:
    return float(getattr(settings, "CHAIN_POLL_SECONDS", 2))


@task()
def follow_chain(chain_id: int, at: str = "") -> int:
    chain = Chain.objects.filter(pk=chain_id, enabled=True).first()
    if chain is None:
        return 0
    ChainCursor.objects.get_or_create(chain=chain)
    if at and _scheduled(chain_id) not in ("", at):
        return 0  # a stale duplicate of the chain's task
    steps = monitor.follow(chain, monitor.worker_id())
    _arm(chain_id, timezone.now() + timedelta(seconds=poll_seconds()), expected=at)
    return sum(s.blocks for s in steps)


def _scheduled(chain_id: int) -> str:
    return str(
        ChainCursor.objects.filter(chain_id=chain_id).values_list("scheduled_for", flat=True).first() or ""
    )


def _arm(chain_id: int, when: datetime, *, expected: str | None) -> None:
    stamp = when.isoformat()
    rows = ChainCursor.objects.filter(chain_id=chain_id)
    if expected is not None:
        rows = rows.filter(scheduled_for__in=[expected, ""])
    with transaction.atomic():
        if rows.update(scheduled_for=stamp):
            queue.enqueue(follow_chain, run_after=when, chain_id=chain_id, at=stamp)


def sweep_stalled() -> int:
    """Arm every enabled chain whose task chain stopped (never started, or its run died)."""
    stale = timezone.now() - timedelta(seconds=max(30, 10 * poll_seconds()) + monitor.lease_seconds())
    armed = 0
    for chain_id in Chain.objects.filter(enabled=True).values_list("pk", flat=True):
        cursor, _ = ChainCursor.objects.get_or_create(chain_id=chain_id)
        if cursor.updated_at < stale or not cursor.scheduled_for:
            _arm(chain_id, timezone.now(), expected=None)
            armed += 1
    return armed
