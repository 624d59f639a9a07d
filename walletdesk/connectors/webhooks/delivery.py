"""Sending one webhook delivery, retrying it, and recovering the ones a dead worker left.

`deliver(id)` (the `deliver_webhook` task) claims the row with a conditional UPDATE (queued or
retry, and due -> "sending" with a lease, attempts + 1), so two workers never both send it,
then POSTs the payload, signed, with short timeouts and no redirects followed (a redirect could
point anywhere the URL check refused). The answer decides:

- 2xx: delivered;
- 408, 429, 5xx, a timeout or a connection error: retried after a backoff (30 s doubling, at
  most an hour; the receiver's Retry-After if longer, up to a day), up to
  `WEBHOOK_MAX_ATTEMPTS` attempts, then failed;
- any other answer (3xx, 4xx): failed at once; retrying would get the same answer.

A worker killed mid-POST leaves the row "sending"; the sweep (`recover`, run by every task
worker) puts it back once its lease has passed and sends it again: the receiver may get that
event twice, with the same X-Walletdesk-Delivery, which is why that header is the event id.
The sweep also re-enqueues a waiting row whose task was lost. Delivery is at least once.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.tasks import default_task_backend
from django.utils import timezone

from walletdesk.connectors.webhooks import events, guard, signing
from walletdesk.connectors.webhooks.models import WebhookDelivery, WebhookEndpoint
from walletdesk.core import queue
from walletdesk.core.retry import backoff as backoff_from
from walletdesk.core.retry import retry_after as parse_retry_after
from walletdesk.tickets import screening

logger = logging.getLogger(__name__)
State = WebhookDelivery.State
EXCERPT = 500
USER_AGENT = "walletdesk-webhooks/1"


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state__in=[State.QUEUED, State.RETRY], next_attempt_at__lte=now
    ).update(
        state=State.SENDING,
        lease_until=now + timedelta(seconds=settings.WEBHOOK_SENDING_LEASE_SECONDS),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.get(pk=delivery_id)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def _screened(text: str, limit: int) -> str:
    # What a receiver answers is stored and shown in the admin: no secret gets in that way.
    return screening.screen_value(text[: limit * 2]).text[:limit]


class _Outcome(Exception):
    def __init__(
        self, error: str, *, retry: bool, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(error)
        self.retry, self.status, self.retry_after = retry, status, retry_after


def deliver(delivery_id: int) -> str:
    """One attempt at one delivery; schedules the next after a retryable failure."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not_due"
    endpoint = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).first()
    try:
        # Another process's copy of the endpoints may be seconds old: check what it wrote.
        if endpoint is None:
            raise _Outcome("the endpoint was deleted", retry=False)
        if not endpoint.active:
            raise _Outcome("the endpoint is not active", retry=False)
        if not endpoint.wants(delivery.event_type):
            raise _Outcome("the endpoint no longer subscribes to this event", retry=False)
        try:
            # Resolved once, here: the POST goes to the address checked, not to the name again.
            target = guard.pin(endpoint.url)
        except guard.RefusedURL as exc:
            raise _Outcome(f"refused: {exc}", retry=False) from None
        status, excerpt, retry_after = _post(target, endpoint.secret(), delivery)
    except _Outcome as outcome:
        return _failed(delivery, outcome)
    except Exception as exc:  # a bug or a broken secret: logged, and retried like a 5xx
        logger.exception("webhook delivery %s failed", delivery.pk)
        return _failed(delivery, _Outcome(f"{type(exc).__name__}: {exc}", retry=True))
    if 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
            state=State.DELIVERED,
            delivered_at=timezone.now(),
            last_status_code=status,
            response_excerpt=excerpt,
            last_error="",
            lease_until=None,
        )
        return "delivered"
    retry = status in (408, 429) or status >= 500
    delivery.response_excerpt = excerpt
    return _failed(
        delivery, _Outcome(f"answered {status}", retry=retry, status=status, retry_after=retry_after)
    )


def _post(target: guard.Target, secret: str, delivery: WebhookDelivery) -> tuple[int, str, float | None]:
    body = body_of(delivery)
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        signing.HEADER: signing.header(secret, body),
        signing.EVENT_HEADER: delivery.event_type,
        signing.DELIVERY_HEADER: str(delivery.event_id),
    }
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST", target.url, content=body, headers=headers, extensions=target.extensions()
            ) as response,
        ):
            # Read only the start of the answer, for a bounded time: a receiver may send
            # anything, of any size, as slowly as it likes.
            start = b""
            deadline = time.monotonic() + 2 * settings.WEBHOOK_TIMEOUT_SECONDS
            for chunk in response.iter_bytes():
                start += chunk
                if len(start) >= EXCERPT * 4 or time.monotonic() > deadline:
                    break
            excerpt = _screened(start.decode("utf-8", "replace"), EXCERPT)
            return response.status_code, excerpt, parse_retry_after(response.headers.get("Retry-After"))
    except httpx.TimeoutException as exc:
        raise _Outcome(f"timed out: {type(exc).__name__}", retry=True) from None
    except httpx.HTTPError as exc:
        raise _Outcome(f"{type(exc).__name__}: {exc}", retry=True) from None


def backoff(attempt: int, after: float | None) -> float:
    return backoff_from(attempt, base=settings.WEBHOOK_RETRY_BASE_SECONDS, cap=3600, wait=after)


def _failed(delivery: WebhookDelivery, outcome: _Outcome) -> str:
    error = _screened(str(outcome), 500)
    common: dict[str, Any] = {
        "last_error": error,
        "last_status_code": outcome.status,
        "response_excerpt": delivery.response_excerpt if outcome.status is not None else "",
        "lease_until": None,
    }
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, state=State.SENDING)
    if outcome.retry and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = backoff(delivery.attempts, outcome.retry_after)
        when = timezone.now() + timedelta(seconds=delay)
        with transaction.atomic():
            mine.update(state=State.RETRY, next_attempt_at=when, **common)
            if default_task_backend.supports_defer:  # the immediate backend (tests) cannot wait
                queue.enqueue_named(events.DELIVER, run_after=when, delivery_id=delivery.pk)
        return f"retry in {delay:.0f}s"
    mine.update(state=State.FAILED, **common)
    return "failed"


def redeliver(delivery_ids: list[int]) -> int:
    """Queue one more attempt now for each delivery not being sent (the admin's action)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(pk__in=delivery_ids)
            .exclude(state=State.SENDING)
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=ids).exclude(state=State.SENDING).update(
            state=State.RETRY, next_attempt_at=now, lease_until=None
        )
        events.enqueue(ids)
    return len(ids)


def recover(limit: int = 500) -> str:
    """The worker's sweep (registered in WebhooksConfig.ready; safe in several workers at once).

    A row "sending" past its lease (its worker died mid-POST) is put back and sent again. A
    queued or retry row more than `WEBHOOK_SWEEP_GRACE_SECONDS` overdue lost its task (or the
    queue is that far behind): it is enqueued again and its due time moved to now, so the next
    sweep leaves it alone for another grace period. Each is a conditional UPDATE: one sweeper wins.
    """
    now = timezone.now()
    stalled = list(
        WebhookDelivery.objects.filter(state=State.SENDING, lease_until__lt=now).values_list("pk", flat=True)[
            :limit
        ]
    )
    for pk in stalled:
        with transaction.atomic():
            if WebhookDelivery.objects.filter(pk=pk, state=State.SENDING, lease_until__lt=now).update(
                state=State.RETRY,
                next_attempt_at=now,
                lease_until=None,
                last_error="the worker stopped mid-send",
            ):
                events.enqueue([pk])
    overdue = now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    lost = list(
        WebhookDelivery.objects.filter(state__in=[State.QUEUED, State.RETRY], next_attempt_at__lt=overdue)
        .values_list("pk", "next_attempt_at")
        .order_by("next_attempt_at")[:limit]
    )
    for pk, due in lost:
        with transaction.atomic():
            if WebhookDelivery.objects.filter(
                pk=pk, state__in=[State.QUEUED, State.RETRY], next_attempt_at=due
            ).update(next_attempt_at=now):
                events.enqueue([pk])
    return f"stalled={len(stalled)} lost={len(lost)}"
