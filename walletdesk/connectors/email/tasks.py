"""Background work for the email channel: sending with retries, and polling mailboxes."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.tasks import default_task_backend, task
from django.utils import timezone

logger = logging.getLogger(__name__)


@task(queue_name="email")
def deliver_outbound(outbound_id: int) -> str:
    from .outbound import deliver

    return deliver(outbound_id)


def _claim_lease(seconds: float) -> bool:
    """Only one poll chain runs: a chain that finds the lease taken ends instead of repeating."""
    from .models import PollerLease

    now = timezone.now()
    PollerLease.objects.get_or_create(pk=1, defaults={"lease_until": now - timedelta(seconds=1)})
    return bool(
        PollerLease.objects.filter(pk=1, lease_until__lte=now).update(
            lease_until=now + timedelta(seconds=seconds * 0.8)
        )
    )


@task(queue_name="email")
def poll_mailboxes() -> str:
    """Poll every active mailbox once, then enqueue itself again (django.tasks has no cron)."""
    from .poll import poll_all

    interval = settings.EMAIL_POLL_SECONDS
    if not _claim_lease(interval):
        return "another poller holds the lease"
    summary = "no mailboxes"
    try:
        summary = poll_all()
    finally:
        if default_task_backend.supports_defer:
            poll_mailboxes.using(run_after=timezone.now() + timedelta(seconds=interval)).enqueue()
    return summary


def ensure_polling() -> None:
    """Start the poll chain if there is anything to poll (idempotent thanks to the lease)."""
    from .models import Mailbox

    if not default_task_backend.supports_defer:
        return  # the immediate backend would poll inline, forever
    if Mailbox.objects.filter(active=True).exists():
        poll_mailboxes.enqueue()


def keep_polling() -> str:
    """The worker's sweep (core.sweeps): start the poll chain again if it has ended.

    The chain lives from one task to the next. A worker killed while polling has its task
    handed back (core.leases) at once, and the re-run finds the dead run's lease still held
    and ends without a successor: polling stopped until the next `migrate`. No waiting or
    running poll task, with an active mailbox, means the chain is gone; a second chain started
    by two sweeps at once ends itself on the lease.
    """
    from django_tasks_db.models import DBTaskResult

    from .models import Mailbox

    if not default_task_backend.supports_defer:
        return "not a queue"
    if not Mailbox.objects.filter(active=True).exists():
        return "no mailboxes"
    chain = DBTaskResult.objects.filter(task_path=poll_mailboxes.module_path, status__in=["READY", "RUNNING"])
    if chain.exists():
        return "polling"
    poll_mailboxes.enqueue()
    logger.warning("the mailbox poll chain had ended; started it again")
    return "restarted"


def start_polling_after_migrate(**kwargs: Any) -> None:
    try:
        ensure_polling()
    except Exception:  # a fresh database without the tasks table yet: the next start will do it
        logger.warning("could not start mailbox polling", exc_info=True)
