"""Ticket changes become webhook deliveries, in the change's own transaction.

`on_ticket_change` is a `tickets.live` listener (registered in WebhooksConfig.ready). Actions
announce inside their transaction, after the write, so the `WebhookDelivery` rows and their
`deliver_webhook` tasks written here commit or roll back with the change: a rolled-back reply
sends nothing, and a committed one is delivered even if the process dies a moment later (the
task row is in the same database). That is the transactional outbox.

Which changes: "created" -> ticket.created (its first message inside), a public "message" ->
message.added (internal notes never leave: they are the desk's own talk, and may quote what a
customer must not see), "status_changed" -> ticket.status_changed, "sla_breached" ->
sla.breached. Everything else (priority, assignee, facts, notes...) is not an event.

Ticket creation runs this once per ticket on the hot path (hundreds a second), so with no
endpoint wanting the event it costs a dict look-up: the active endpoints are a per-process
copy (ProcessCache), forgotten on every endpoint save or delete in this process and re-read by
the others within `ENDPOINT_CACHE_SECONDS`.

What a payload carries: the ticket's reference, subject, status, priority, channel, category
and team slugs and times; for a message its id, author role, time and body. Subjects and
bodies were screened by the shield before they were stored (a recovery phrase is already a
placeholder). Never the customer's email or name, the tracking link (it opens the ticket
without signing in) or any internal note: a receiver that needs the person looks the ticket
up through the API with its own token, where access rules apply.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from walletdesk.connectors.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from walletdesk.core import queue, rows
from walletdesk.core.cache import ProcessCache
from walletdesk.tickets.live import Change
from walletdesk.tickets.models import Category, Message, Team, Ticket, TicketEvent, Visibility

DELIVER = "walletdesk.connectors.webhooks.tasks.deliver_webhook"
ENDPOINT_CACHE_SECONDS = 10.0

KINDS = {
    "created": EventType.TICKET_CREATED,
    "message": EventType.MESSAGE_ADDED,
    "status_changed": EventType.STATUS_CHANGED,
    "sla_breached": EventType.SLA_BREACHED,
}


def _load_endpoints() -> dict[str, tuple[int, ...]]:
    wanted: dict[str, list[int]] = defaultdict(list)
    for pk, events in WebhookEndpoint.objects.filter(active=True).values_list("pk", "events"):
        for event in events or []:
            wanted[str(event)].append(pk)
    return {event: tuple(ids) for event, ids in wanted.items()}


_endpoints = ProcessCache(_load_endpoints, ttl=ENDPOINT_CACHE_SECONDS)
forget_endpoints = _endpoints.forget


def _load_slugs() -> tuple[dict[int, str], dict[int, str]]:
    return dict(Team.objects.values_list("pk", "slug")), dict(Category.objects.values_list("pk", "slug"))


_slugs = ProcessCache(_load_slugs, ttl=60.0)


def _slug(kind: int, pk: int | None) -> str | None:
    if pk is None:
        return None
    found = _slugs.get()[kind].get(pk)
    if found is None:  # made after the copy was read
        model: Any = Team if kind == 0 else Category
        found = model.objects.filter(pk=pk).values_list("slug", flat=True).first()
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "category": _slug(1, ticket.category_id),
        "team": _slug(0, ticket.team_id),
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
    }


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "author_role": message.author_role,
        "channel": message.channel,
        "created_at": _iso(message.created_at),
        "body": message.body,
    }


def _last_event(ticket: Ticket, kind: str) -> dict[str, Any]:
    data = (
        TicketEvent.objects.filter(ticket_id=ticket.pk, kind=kind)
        .order_by("-created_at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    return dict(data or {})


def event_data(event_type: str, change: Change) -> dict[str, Any] | None:
    """The payload's `data` for this change, or None if it is not one we send."""
    ticket, message = change.ticket, change.message
    data: dict[str, Any] = {"ticket": ticket_data(ticket)}
    if event_type == EventType.TICKET_CREATED:
        if message is not None and message.visibility == Visibility.PUBLIC:
            data["message"] = message_data(message)
    elif event_type == EventType.MESSAGE_ADDED:
        if message is None or message.visibility != Visibility.PUBLIC:
            return None
        data["message"] = message_data(message)
    elif event_type == EventType.STATUS_CHANGED:
        # The event written just before the announcement says where it came from.
        last = _last_event(ticket, "status_changed")
        data["old_status"] = last.get("old")
        data["new_status"] = ticket.status
        if last.get("why"):
            data["reason"] = str(last["why"])
    elif event_type == EventType.SLA_BREACHED:
        last = _last_event(ticket, "sla_breached")
        data["clock"] = last.get("clock")
        data["due_at"] = last.get("due")
    return data


def on_ticket_change(change: Change) -> None:
    event_type = KINDS.get(change.kind)
    if event_type is None:
        return
    endpoint_ids = _endpoints.get().get(event_type)
    if not endpoint_ids:
        return  # the hot path with no endpoint: one dict look-up
    # A savepoint: on PostgreSQL a failed statement would otherwise abort the action's whole
    # transaction, and tickets.live promises a failing listener never undoes the change.
    with transaction.atomic():
        data = event_data(event_type, change)
        if data is None:
            return
        record(event_type, data, endpoint_ids)


def record(event_type: str, data: dict[str, Any], endpoint_ids: tuple[int, ...]) -> list[WebhookDelivery]:
    """Write one delivery per endpoint and enqueue its task, in the caller's transaction."""
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "type": event_type, "created_at": now.isoformat(), "data": data}
    deliveries = [
        WebhookDelivery(
            endpoint_id=pk,
            event_type=event_type,
            event_id=event_id,
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
        for pk in endpoint_ids
    ]
    rows.insert(deliveries)
    enqueue([d.pk for d in deliveries])
    return deliveries


def enqueue(delivery_ids: list[int]) -> None:
    """One `deliver_webhook` task per delivery. With the database queue it is written now, in
    the caller's transaction (committed with the change). A backend that runs a task the moment
    it is enqueued (the tests' immediate backend) would POST before the commit, and for a change
    that then rolls back: there it waits for the commit, as a queued row would."""
    task = queue.task_named(DELIVER)
    calls = [(task, {"delivery_id": pk}) for pk in delivery_ids]
    if isinstance(task.get_backend(), DatabaseBackend):
        queue.enqueue_many(calls)  # collected into the action's own INSERT under queue.batch()
    else:
        transaction.on_commit(lambda: queue.enqueue_many(calls))
