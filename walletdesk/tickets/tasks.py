"""Background work for tickets. Tasks take ids, never model instances."""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.tasks import task

from walletdesk.core import queue
from walletdesk.core.views import is_outage
from walletdesk.tickets import channels
from walletdesk.tickets.models import Message, Ticket


@task(queue_name="email")
def notify_customer(ticket_id: int, kind: str, message_id: int | None = None) -> str:
    """Tell the customer about their ticket: created (with the promise), an agent reply, solved.

    The channel adapter (registered by a connector, see `channels`) builds and sends it; the
    email connector records the Message-ID and retries with backoff.
    """
    ticket = Ticket.objects.select_related("contact", "category").filter(pk=ticket_id).first()
    if ticket is None:
        return "skipped"
    message = Message.objects.filter(pk=message_id, ticket_id=ticket_id).first() if message_id else None
    return channels.send_to_customer(ticket, kind, message)


class NotifyFailed(Exception):
    """Some notifications of a batch raised; the rest went out. The task is marked failed."""


@task(queue_name="email")
def notify_customers(ticket_ids: list[int], kind: str) -> str:
    """`notify_customer` for the tickets of one write batch (acknowledgements of new tickets).

    A batch of tickets committed together is acknowledged by one task: the worker claims it
    once and loads the tickets in one query, instead of a claim, a ticket query and a result
    update per ticket (7 of the 12 round trips an acknowledgement cost on PostgreSQL), and the
    channel's batch sender (`channels.send_to_customers`) records them together. Each ticket
    is still sent on its own: one that raises does not stop the others, and the task then
    fails naming it. Run again, it sends nothing twice (the senders' dedupe keys): a run whose
    worker died is handed back to the queue (core.leases), and the re-run sends only what the
    dead run recorded but never tried; the one mail it was sending is the stalled-mail sweep's
    (connectors/email/outbound.py, "Crash safety").
    """
    # Other acknowledgement batches already queued go out with this one: claimed for this
    # worker (core.queue.take_more), so a crash hands them back like this task.
    room = settings.EMAIL_SEND_BATCH - len(ticket_ids)
    same = queue.take_more(
        notify_customers, room, same={"kind": kind}, weight=lambda kwargs: len(kwargs.get("ticket_ids", []))
    )
    owners: dict[int, str | None] = dict.fromkeys(ticket_ids, None)
    for pk, kwargs in same:
        for ticket_id in kwargs.get("ticket_ids", []):
            owners.setdefault(ticket_id, pk)
    tickets = Ticket.objects.select_related("contact", "category").in_bulk(list(owners))
    sent = channels.send_to_customers([tickets[i] for i in owners if i in tickets], kind)
    summaries: dict[str | None, Counter[str]] = {None: Counter(), **{pk: Counter() for pk, _ in same}}
    failures: dict[str | None, list[int]] = {}
    outage: Exception | None = None
    for ticket_id, owner in owners.items():
        outcome = sent.get(ticket_id, "skipped")
        if isinstance(outcome, Exception):
            failures.setdefault(owner, []).append(ticket_id)
            outage = outage or (outcome if is_outage(outcome) else None)
        else:
            summaries[owner][outcome] += 1
    if outage is not None:
        # The database (or disk) went away mid-batch: nothing is settled. Chained to the outage,
        # the worker hands this run and the runs it took back to the queue instead of failing
        # them (core.worker), and their re-runs send what is left.
        unsent = sorted(t for ids in failures.values() for t in ids)
        raise NotifyFailed(f"{kind} notification interrupted by an outage for tickets {unsent}") from outage
    queue.settle(
        {pk: _summary(summaries[pk]) for pk, _ in same if pk not in failures},
        {
            pk: f"{kind} notification failed for tickets {sorted(failures[pk])}"
            for pk, _ in same
            if pk in failures
        },
        error_class=NotifyFailed,
    )
    summary = _summary(summaries[None])
    if same:
        summary += f" (with {len(same)} more queued batch(es))"
    if None in failures:
        raise NotifyFailed(f"{kind} notification failed for tickets {sorted(failures[None])}; {summary}")
    return summary


def _summary(outcomes: Counter[str]) -> str:
    return " ".join(f"{outcome}={n}" for outcome, n in sorted(outcomes.items()) if n)
