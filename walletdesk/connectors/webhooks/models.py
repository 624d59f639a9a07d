"""Outbound webhooks: the wallet's own systems subscribe to ticket events.

`WebhookEndpoint` is one receiver (its URL, its signing secret, the events it wants);
`WebhookDelivery` is one event for one endpoint: the outbox row written in the same
transaction as the change that caused it, then sent by a task (see delivery.py).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from walletdesk.accounts import crypto


class EventType(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    MESSAGE_ADDED = "message.added", _("Public message added")
    STATUS_CHANGED = "ticket.status_changed", _("Status changed")
    SLA_BREACHED = "sla.breached", _("SLA breached")


def new_secret() -> str:
    # 32 random bytes, hex: what the receiver types into its own config.
    return "whsec_" + secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500)
    # The signing secret as a Fernet token (walletdesk.accounts.crypto, DOCUMENT_KEYS): shown
    # once when the endpoint is made, never again (the admin has no field that reads it).
    secret_encrypted = models.BinaryField(editable=False, default=b"")
    events = models.JSONField(_("events"), default=list, help_text=_("The events this endpoint receives."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name or self.url

    def secret(self) -> str:
        token = bytes(self.secret_encrypted or b"")
        return crypto.decrypt(token).decode() if token else ""

    def set_secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value.encode())

    def wants(self, event_type: str) -> bool:
        return event_type in (self.events or [])


class WebhookDelivery(models.Model):
    """One event for one endpoint. Written with the change (a transactional outbox), claimed
    by a task with a conditional UPDATE ("sending" with a lease), marked with the outcome."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRY = "retry", _("Waiting to retry")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # No database constraint: other processes keep a copy of the endpoint ids for a few seconds
    # (events.py), and a delivery written there for an endpoint just deleted must not make the
    # ticket's transaction fail at commit. Deleting an endpoint still deletes its deliveries
    # (Django cascades); such a straggler is marked failed when its task finds no endpoint.
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
        db_constraint=False,
    )
    event_type = models.CharField(_("event type"), max_length=40, choices=EventType.choices)
    # The event's id: the same for every attempt (and in X-Walletdesk-Delivery), so a receiver
    # that got an attempt twice (a worker killed after the POST) can drop the second.
    event_id = models.UUIDField(_("event id"))
    payload = models.JSONField(_("payload"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # Screened by the shield: a receiver may echo anything back.
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_webhook_delivery"),
        ]
        indexes = [
            # The sweep: rows waiting (queued/retry) or sending, by due time.
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.endpoint_id} ({self.state})"
