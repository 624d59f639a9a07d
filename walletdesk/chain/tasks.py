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
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.utils import timezone, translation

from walletdesk.accounts.models import User
from walletdesk.chain import actions, monitor, notices
from walletdesk.chain.models import Chain, ChainAlert, ChainCursor
from walletdesk.core import mail, queue
from walletdesk.tickets.models import Ticket


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


@task()
def deliver_alert(alert_id: int) -> int:
    return len(actions.deliver_alert(alert_id))


def sweep_undelivered() -> int:
    """Deliver alerts whose task was lost (a worker killed after the monitor's commit)."""
    grace = timezone.now() - timedelta(seconds=30)
    ids = list(
        ChainAlert.objects.filter(delivered_at__isnull=True, created_at__lt=grace).values_list(
            "pk", flat=True
        )[:200]
    )
    for alert_id in ids:
        actions.deliver_alert(alert_id)
    return len(ids)


@task(queue_name="email")
def send_alert_mail(alert_id: int, user_id: int, ticket_id: int) -> str:
    """The customer's notice: their language first, the other under it (a security mail must be
    readable even when the language setting is wrong), branded through core.mail."""
    alert = ChainAlert.objects.select_related("chain").filter(pk=alert_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if alert is None or user is None or not user.email:
        return "skipped"
    first = mail.language(user.language)  # zh-hant readers get Traditional, not Simplified
    site = settings.SITE_URL.rstrip("/")
    explorer = actions.explorer_tx(alert.chain, alert.tx_hash)
    parts = []
    for code in (first, "zh-hans" if first == "en" else "en"):
        with translation.override(code):
            notice = notices.ticket_notice(alert, site_url=site, explorer=explorer)
            parts.append(notice.body)
    with translation.override(first):
        subject = notices.title(alert.rule)
        if ticket is not None:
            subject = f"[{ticket.reference}] {subject}"
    EmailMessage(
        subject=mail.subject(subject),
        body="\n\n----------------------------------------\n\n".join(parts) + "\n",
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()
    return "sent"
