"""Task leases: a task whose worker died is run again, and never while its worker lives.

django-tasks-db claims a task by marking it RUNNING with the worker's id appended to
`worker_ids`, and nothing looks at a RUNNING task again: a worker killed with `kill -9` (OOM
killer, a deploy, a crash) left its task RUNNING forever, and the acknowledgements it had not
sent yet were never sent.

The lease is the worker's, not the task's: every worker (`core.worker`, started by our
`db_worker`) keeps a `WorkerHeartbeat` row, written before its first claim and renewed every
`WORKER_HEARTBEAT_SECONDS` by a thread, whatever task the main thread is running (a batch of
200 mails to a slow server outlives any per-task lease one could pick). A RUNNING task goes
back to READY when its last worker is dead:

- on this machine (same hostname, kernel boot and PID namespace), its process is gone or is a
  zombie or the pid now belongs to a process started at another time: known at once, so a
  restarted worker picks up its predecessor's task immediately (and a live one is never
  judged by its heartbeat: starved of CPU, it may miss beats while it still runs the task);
- on another machine, its heartbeat is older than `WORKER_LEASE_SECONDS`;
- it never had a heartbeat row (a stock worker, or a row already reaped) and the task started
  more than a lease ago.

So while its owner is alive no second worker runs a task: the owner's row is fresh and its
process exists. The hand-back is a conditional UPDATE on (status RUNNING, the started_at we
saw), so two sweepers, or a sweeper and the owner finishing, cannot both win. A task handed
back `TASK_MAX_ATTEMPTS` times (one that kills its worker, say) is marked FAILED instead of
looping. A re-run task must not double its effects: the tasks are idempotent on their own
keys (acknowledgements on the OutboundEmail dedupe key, SLA checks on their claim).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from walletdesk.core.models import WorkerHeartbeat

log = logging.getLogger(__name__)


class WorkerDied(Exception):
    """Recorded on a task whose workers kept dying while running it (TASK_MAX_ATTEMPTS)."""


def lease() -> timedelta:
    return timedelta(seconds=settings.WORKER_LEASE_SECONDS)


@cache
def host_id() -> str:
    """This machine and PID namespace: where a pid means the same process as here."""
    parts = [socket.gethostname()]
    try:
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:  # not Linux: no pid check, the lease alone decides
        return ""
    return "/".join(parts)[:200]


def proc_start(pid: int) -> int | None:
    """When the process started (clock ticks after boot), or None if there is no such live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if fields[0] in ("Z", "X"):  # a zombie has already died; only its parent has not reaped it
        return None
    return int(fields[19])


def beat(worker_id: str, now: datetime | None = None) -> None:
    """Write (or renew) this process's heartbeat for `worker_id`."""
    now = now or timezone.now()
    pid = os.getpid()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=now)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "host": host_id(),
                "pid": pid,
                "proc_start": proc_start(pid) or 0,
                "started_at": now,
                "beat_at": now,
            },
        )


def last_beat() -> datetime | None:
    """When a worker was last known alive, for /readyz; None when no worker row exists.

    A worker on this machine whose process runs counts as alive now, whatever its last beat:
    at SCHED_IDLE a burst starves it of CPU for minutes, and a load balancer must not pull an
    instance for being busy (`is_dead` judges it the same way). Elsewhere its last beat counts.
    """
    rows = list(WorkerHeartbeat.objects.all())
    if not rows:
        return None
    now = timezone.now()
    here = host_id()
    return max(now if row.host == here and not is_dead(row, now) else row.beat_at for row in rows)


def forget(worker_id: str) -> None:
    """A worker that stops cleanly takes its row away (it runs no task any more)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def is_dead(row: WorkerHeartbeat, now: datetime) -> bool:
    if row.host and row.host == host_id():
        # Here the process itself is the truth: a worker starved of CPU (it runs at SCHED_IDLE
        # under `walletdesk up`, and a burst can keep it off the cores for minutes) misses its
        # beats but is still running its task; one whose pid is gone is dead, beat or not.
        started = proc_start(row.pid)
        return started is None or bool(row.proc_start and started != row.proc_start)
    return row.beat_at < now - lease()


Claim = tuple[Any, list[str], datetime | None]  # a RUNNING task: (id, worker_ids, started_at)


def requeue_orphans(now: datetime | None = None) -> int:
    """Hand the RUNNING tasks of dead workers back to the queue; reap dead workers' rows.

    RUNNING tasks are few (one per worker, or a batch it took along), so they are judged in
    Python; the worker ids live in a JSON list whose last element no portable SQL reads.
    """
    now = now or timezone.now()
    running = _running()
    owners = {ids[-1] for _pk, ids, _at in running if ids}
    beats = {row.worker_id: row for row in WorkerHeartbeat.objects.filter(worker_id__in=owners)}
    dead = {worker_id for worker_id, row in beats.items() if is_dead(row, now)}
    # No row: a worker whose row was reaped already, or one without a heartbeat at all; its
    # tasks go back once they started more than a lease ago.
    unknown = [
        claim
        for claim in running
        if (not claim[1] or claim[1][-1] not in beats) and (claim[2] is None or claim[2] < now - lease())
    ]
    handed_back = sum(hand_back_claims(worker_id, now, running=running) for worker_id in sorted(dead))
    handed_back += _hand_back(unknown, now, died=True)
    # Reap the rows of dead workers whose tasks are settled (a worker killed between tasks).
    stale = [row.pk for row in WorkerHeartbeat.objects.all() if is_dead(row, now)]
    if stale:
        WorkerHeartbeat.objects.filter(pk__in=stale).delete()
    return handed_back


def _running() -> list[Claim]:
    return [
        (pk, list(ids or []), at)
        for pk, ids, at in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list(
            "id", "worker_ids", "started_at"
        )
    ]


def hand_back_claims(
    worker_id: str, now: datetime | None = None, *, died: bool = True, running: list[Claim] | None = None
) -> int:
    """Hand back to the queue every task `worker_id` holds RUNNING (its last claimer): the task
    it ran and the runs it took along with it (`core.queue.take_more`). The one place a claim
    is given up, for both reasons:

    - its worker died (`requeue_orphans`, `died=True`): a task handed back `TASK_MAX_ATTEMPTS`
      times (one that kills its worker, say) is marked FAILED instead of looping;
    - its live worker lost the database mid-task (`core.worker`, `died=False`): the result
      could not be written and no sweep would ever hand it back; an outage is no attempt, so
      it always goes back.

    Each hand-back is an UPDATE conditional on the claim judged (RUNNING, the same started_at),
    so two sweepers, or a sweeper and the owner finishing, cannot both win.
    """
    now = now or timezone.now()
    claims = [
        claim for claim in (running if running is not None else _running()) if claim[1][-1:] == [worker_id]
    ]
    return _hand_back(claims, now, died=died)


def _hand_back(claims: list[Claim], now: datetime, *, died: bool) -> int:
    handed_back = 0
    for pk, ids, started_at in claims:
        same_claim = Q(pk=pk, status=TaskResultStatus.RUNNING)
        same_claim &= Q(started_at=started_at) if started_at else Q(started_at__isnull=True)
        with transaction.atomic():
            if died and len(ids) >= settings.TASK_MAX_ATTEMPTS:
                done = DBTaskResult.objects.filter(same_claim).update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path=f"{__name__}.WorkerDied",
                    traceback=f"WorkerDied: its worker died while running it, {len(ids)} times\n",
                    return_value=None,
                )
                verb = "failed for good"
            else:
                done = DBTaskResult.objects.filter(same_claim).update(status=TaskResultStatus.READY)
                verb = "handed back to the queue"
        if done:
            handed_back += 1
            why = "dead" if died else "interrupted"
            log.warning(
                "task %s of %s worker %s %s (attempt %d)", pk, why, ids[-1] if ids else "?", verb, len(ids)
            )
    return handed_back
