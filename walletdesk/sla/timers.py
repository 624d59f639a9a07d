"""SLA timers: each ticket schedules its own checks for the moments they fall due.

`schedule(ticket_id)` runs after every change to a ticket's clock (`sla.hooks` calls it in the
action's transaction) and after each check has run. It writes the ticket's next `SlaCheck` row (one per
(ticket, kind, due time)) and enqueues a task with `run_after` at the check's moment, so
nothing scans the ticket table on a timer. Checks armed together (a batch of new tickets) share
one task, due at the earliest of them: it runs those due and re-arms itself for the rest (a
task row per ticket was a fifth of the rows a ticket creation writes). Checks set for
a due time the ticket no longer has are marked stale at once; one that slips through (a
concurrent change) finds the due time moved when it runs and does nothing.

A check is claimed with a conditional UPDATE (`... WHERE claimed_at IS NULL`) inside the
transaction that acts on it: on PostgreSQL a second worker's UPDATE waits for the first to
commit and then matches no row; on SQLite the single writer lock serialises them. So an
at-risk warning, a breach escalation, a reminder or an auto-solve happens exactly once, and
a failed action rolls back its claim and is retried by the task framework.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.core import metrics, queue, rows
from walletdesk.core.locks import lock_rows
from walletdesk.core.when import zoned
from walletdesk.sla import clock as sla
from walletdesk.sla import followups
from walletdesk.sla.models import EscalationRule, SlaCheck
from walletdesk.sla.notify import lead as _lead
from walletdesk.sla.notify import mail_agents as _mail_agents
from walletdesk.tickets import actions, live
from walletdesk.tickets.actions import raise_one_step
from walletdesk.tickets.models import Status, Ticket

log = logging.getLogger(__name__)
Kind = SlaCheck.Kind
CLOCK_OF = {
    Kind.FIRST_REPLY_WARN: "first_reply",
    Kind.FIRST_REPLY_BREACH: "first_reply",
    Kind.NEXT_REPLY_WARN: "next_reply",
    Kind.NEXT_REPLY_BREACH: "next_reply",
    Kind.RESOLUTION_WARN: "resolution",
    Kind.RESOLUTION_BREACH: "resolution",
}


def reminder_after() -> timedelta:
    return timedelta(days=getattr(settings, "PENDING_REMINDER_DAYS", 3))


def autosolve_after() -> timedelta:
    return timedelta(days=getattr(settings, "PENDING_AUTOSOLVE_DAYS", 7))


# --- what a ticket needs -----------------------------------------------------------------------


def _due_field(ticket: Ticket, clock: str) -> datetime | None:
    if clock == "first_reply":
        return ticket.first_reply_due if ticket.first_replied_at is None else None
    if clock == "next_reply":
        return ticket.next_reply_due
    return ticket.resolution_due if ticket.status not in sla.DONE_STATUSES else None


def wanted_checks(ticket: Ticket) -> list[tuple[str, datetime, datetime]]:
    """(kind, due_at, run_at) for every timer the ticket should have now."""
    out: list[tuple[str, datetime, datetime]] = []
    if ticket.status not in sla.PAUSED_STATUSES:
        for clock in ("first_reply", "next_reply", "resolution"):
            due = _due_field(ticket, clock)
            if due is None:
                continue
            warn_at = sla.due_at(ticket, clock, fraction=1 - sla.AT_RISK_FRACTION)
            if warn_at is not None and warn_at < due:
                out.append((f"{clock}_warn", due, warn_at))
            out.append((f"{clock}_breach", due, due))
    elif ticket.status == Status.PENDING and ticket.sla_paused_at is not None:
        since = ticket.sla_paused_at
        out.append((Kind.PENDING_REMINDER, since, since + reminder_after()))
        out.append((Kind.PENDING_AUTOSOLVE, since, since + autosolve_after()))
    return out


def is_current(check: SlaCheck, ticket: Ticket) -> bool:
    """Whether the ticket still has the due time this check was set for."""
    if check.kind in (Kind.PENDING_REMINDER, Kind.PENDING_AUTOSOLVE):
        return ticket.status == Status.PENDING and ticket.sla_paused_at == check.due_at
    if ticket.status in sla.PAUSED_STATUSES:
        return False
    return _due_field(ticket, CLOCK_OF[Kind(check.kind)]) == check.due_at


def _supports_run_after() -> bool:
    return bool(sla_checks.get_backend().supports_defer)


def _in_run_order(ticket: Ticket) -> list[tuple[str, datetime, datetime]]:
    return sorted(wanted_checks(ticket), key=lambda w: w[2])


def first_check(ticket: Ticket) -> tuple[str, datetime, datetime] | None:
    """(kind, due_at, run_at) of a new ticket's first timer: pure, so it can be worked out
    before the transaction that writes the ticket opens."""
    wanted = _in_run_order(ticket)
    return wanted[0] if wanted else None


def schedule_new(tickets: Sequence[Ticket]) -> list[int]:
    """Arm the first timer of tickets inserted in this transaction: one INSERT for all.

    Nobody else can see these tickets yet, so there are no checks to compare against and no
    race to guard with a savepoint. `sla.on_created` worked the timers out beforehand.
    """
    checks = [
        SlaCheck(ticket_id=t.pk, kind=first[0], due_at=first[1], run_at=first[2])
        for t in tickets
        if (first := t._sla_first_check) is not None
    ]
    rows.insert(checks)
    _enqueue_checks(checks)
    return [c.pk for c in checks]


def _enqueue_checks(checks: Sequence[SlaCheck]) -> None:
    if checks and _supports_run_after():
        _enqueue_run([c.pk for c in checks], min(c.run_at for c in checks), timezone.now())


def _enqueue_run(check_ids: list[int], run_at: datetime, now: datetime) -> None:
    queue.enqueue(sla_checks.using(run_after=max(run_at, now)), check_ids=check_ids)


def schedule(ticket_id: int, *, ahead: int = 1, ticket: Ticket | None = None) -> list[int]:
    """Arm the ticket's next `ahead` timers, retire stale ones, enqueue a task per new check.

    Only the next timer is armed by default (the first-reply warning, say); when it has run,
    `run_check` arms the one after it. A new ticket thus writes one check and one task row,
    not one per clock, and a ticket answered early never had its later timers written at all.
    """
    # Actions pass the ticket they are saving (its due fields are already the new ones).
    ticket = ticket if ticket is not None else Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return []
    wanted = _in_run_order(ticket)
    now = timezone.now()
    created: list[SlaCheck] = []
    # Joins the action's transaction without a savepoint of its own (two round trips per
    # message): an error here fails that action anyway. Alone, it is its own transaction.
    with transaction.atomic(savepoint=False):
        existing = list(SlaCheck.objects.filter(ticket_id=ticket_id))
        keep = {(k, d) for k, d, _ in wanted}
        stale = [c.pk for c in existing if c.claimed_at is None and (c.kind, c.due_at) not in keep]
        if stale:
            SlaCheck.objects.filter(pk__in=stale, claimed_at__isnull=True).update(
                claimed_at=now, outcome="stale"
            )
        done = {(c.kind, c.due_at) for c in existing if c.claimed_at is not None}
        armed = {(c.kind, c.due_at) for c in existing if c.claimed_at is None}
        upcoming = [w for w in wanted if (w[0], w[1]) not in done][:ahead]
        for kind, due, run_at in upcoming:
            if (kind, due) in armed:
                continue
            try:
                with transaction.atomic():
                    created.append(
                        SlaCheck.objects.create(ticket_id=ticket_id, kind=kind, due_at=due, run_at=run_at)
                    )
            except IntegrityError:
                continue  # a concurrent schedule() made it; its task is enqueued there
        _enqueue_checks(created)
    return [c.pk for c in created]


# --- running a check ---------------------------------------------------------------------------


@task(queue_name="sla")
def sla_check(check_id: int) -> str:
    """One check. No longer enqueued (see sla_checks); kept for tasks queued before."""
    return run_check(check_id)


@task(queue_name="sla")
def sla_checks(check_ids: list[int]) -> str:
    return run_checks(check_ids)


def run_checks(check_ids: Sequence[int], now: datetime | None = None) -> str:
    """Run the checks among these that are due; one task, at the next moment, for the rest.

    The rest is re-armed before anything runs, so a failing check cannot cost the others
    their timer; a check that fails leaves the others to run, and its error is raised at the
    end (the task shows as failed; the check, its claim rolled back, stays unclaimed).
    """
    now = now or timezone.now()
    waiting = dict(
        SlaCheck.objects.filter(pk__in=check_ids, claimed_at__isnull=True).values_list("pk", "run_at")
    )
    later = [pk for pk in check_ids if pk in waiting and waiting[pk] > now]
    if later:
        with transaction.atomic():
            _enqueue_run(later, min(waiting[pk] for pk in later), now)
    outcomes: list[str] = []
    failure: Exception | None = None
    for pk in sorted(pk for pk, at in waiting.items() if at <= now):
        try:
            outcomes.append(run_check(pk, now))
        except Exception as exc:
            log.exception("SLA check %s failed", pk)
            failure = failure or exc
    if failure is not None:
        raise failure
    return f"ran {len(outcomes)} ({', '.join(outcomes) or 'none'}), re-armed {len(later)}"


def run_check(check_id: int, now: datetime | None = None) -> str:
    """Claim the check and act on it, once. Returns what happened (for the task result)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = SlaCheck.objects.filter(pk=check_id, claimed_at__isnull=True, run_at__lte=now).update(
            claimed_at=now
        )
        if not claimed:
            return "not_due_or_claimed"
        check = SlaCheck.objects.get(pk=check_id)
        ticket = lock_rows(Ticket, [check.ticket_id])[check.ticket_id]
        outcome = _act(check, ticket, now) if is_current(check, ticket) else "stale"
        SlaCheck.objects.filter(pk=check_id).update(outcome=outcome)
    schedule(check.ticket_id)  # arm the next timer (committed: this one is done)
    return outcome


def run_due_checks(now: datetime | None = None, limit: int = 100, overdue_by: timedelta | None = None) -> int:
    """Run every check whose moment has come (the recovery path, and the benchmark's loop);
    with `overdue_by`, only those at least that late."""
    now = now or timezone.now()
    ids = list(
        SlaCheck.objects.filter(claimed_at__isnull=True, run_at__lte=now - (overdue_by or timedelta(0)))
        .order_by("run_at")
        .values_list("pk", flat=True)[:limit]
    )
    ran = 0
    for pk in ids:
        try:
            ran += run_check(pk, now) != "not_due_or_claimed"
        except Exception:  # its claim rolled back; the next sweep tries it again
            log.exception("SLA check %s failed", pk)
    return ran


def sweep_overdue_checks() -> int:
    """The worker's recovery sweep (registered in SlaConfig.ready, run by core.worker).

    A check normally runs from its `sla_checks` task. One whose task failed (a check that raised
    stays unclaimed) or was lost never ran again: a breach was never escalated. Checks more
    than `SLA_SWEEP_GRACE_SECONDS` overdue are run here, a bounded number per sweep; the grace
    leaves the ones whose task is merely queued behind a burst to that task. Each is claimed
    with the same conditional UPDATE, so it acts once whoever gets there first.
    """
    return run_due_checks(limit=200, overdue_by=timedelta(seconds=settings.SLA_SWEEP_GRACE_SECONDS))


def _act(check: SlaCheck, ticket: Ticket, now: datetime) -> str:
    kind = Kind(check.kind)
    if kind in (Kind.PENDING_REMINDER, Kind.PENDING_AUTOSOLVE):
        if kind == Kind.PENDING_REMINDER:
            return followups.remind_pending(ticket, now)
        return followups.autosolve_pending(ticket, now)
    clock = CLOCK_OF[kind]
    if kind.endswith("_warn"):
        actions.record_event(ticket, "sla_at_risk", clock=clock, due=check.due_at.isoformat())
        transaction.on_commit(lambda: metrics.sla_at_risk(clock))
        recipients = [ticket.assignee] if ticket.assignee else _lead(ticket)
        _mail_agents(
            recipients,
            lambda: (
                _("At risk: %(ref)s is due %(due)s") % {"ref": ticket.reference, "due": _fmt(check.due_at)}
            ),
            ticket,
        )
        return "warned"
    actions.record_event(ticket, "sla_breached", clock=clock, due=check.due_at.isoformat())
    # Counted when the claim commits: a check that fails and rolls back is run (and counted) again.
    transaction.on_commit(lambda: metrics.sla_breached(clock))
    # Listeners above tickets hear of it (the outbound webhooks' sla.breached, a desk nudge).
    live.announce(ticket, "sla_breached")
    done = escalate(ticket, clock)
    return "escalated:" + ",".join(done) if done else "breached"


# --- escalation --------------------------------------------------------------------------------


def _rules_for(ticket: Ticket, clock: str) -> list[EscalationRule]:
    rules = EscalationRule.objects.filter(active=True).select_related("assign_to", "move_to_team")
    return [
        r
        for r in rules
        if r.clock in ("any", clock)
        and (r.team_id is None or r.team_id == ticket.team_id)
        and (not r.priority or r.priority == ticket.priority)
    ]


def escalate(ticket: Ticket, clock: str) -> list[str]:
    """Apply the matching escalation rules; with none, tell the team lead. Inside the claim."""
    rules = _rules_for(ticket, clock)
    done: list[str] = []
    if not rules:
        if _lead(ticket):
            _notify_lead(ticket, clock)
            done.append("notify_lead")
        return done
    for rule in rules:
        if rule.action == EscalationRule.Action.NOTIFY_LEAD:
            _notify_lead(ticket, clock)
        elif rule.action == EscalationRule.Action.RAISE_PRIORITY:
            higher = raise_one_step(ticket.priority)
            if higher == ticket.priority:
                continue
            actions.change_priority(ticket, higher, actor=None)
            ticket.refresh_from_db()
        elif rule.action == EscalationRule.Action.REASSIGN:
            if rule.move_to_team is not None:
                actions.set_team(ticket, rule.move_to_team, actor=None)
            if rule.assign_to is not None:
                actions.assign(ticket, rule.assign_to, actor=None)
            ticket.refresh_from_db()
        done.append(rule.action)
        actions.record_event(ticket, "escalated", rule=rule.name, action=rule.action, clock=clock)
    return done


def _notify_lead(ticket: Ticket, clock: str) -> None:
    _mail_agents(
        _lead(ticket),
        lambda: _("Breached: %(ref)s (%(clock)s)") % {"ref": ticket.reference, "clock": clock},
        ticket,
    )


def _fmt(moment: datetime) -> str:
    return zoned(moment)
