"""A social account (one WeChat official account, Telegram bot, X account, Weibo account),
what it pushed to us, and what we sent through it."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from walletdesk.accounts import crypto


class Provider(models.TextChoices):
    # The same values as tickets.Channel: a ticket's channel is its account's provider.
    WECHAT = "wechat", _("WeChat")
    WEIBO = "weibo", _("Weibo")
    X = "x", _("X")
    TELEGRAM = "telegram", _("Telegram")


class SocialAccount(models.Model):
    """One account of the wallet's on a provider. Its webhook is /hooks/<provider>/<slug>."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    # The provider's keys (tokens, secrets, api_base) as one Fernet token of a JSON object
    # (walletdesk.accounts.crypto, DOCUMENT_KEYS); never shown back in the admin.
    credentials_encrypted = models.BinaryField(editable=False, default=b"")
    team = models.ForeignKey(
        "tickets.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Tickets from this account go to this team (else routing decides).",
    )
    language = models.CharField(
        max_length=10,
        default="zh-hans",
        help_text="The language of acknowledgements when the provider does not say the user's.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "slug"], name="uniq_social_account")]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.slug}"

    def credentials(self) -> dict[str, str]:
        cached = getattr(self, "_credentials", None)
        if cached is None:
            token = bytes(self.credentials_encrypted or b"")
            cached = json.loads(crypto.decrypt(token)) if token else {}
            self._credentials = cached
        return dict(cached)

    def set_credentials(self, values: dict[str, Any]) -> None:
        clean = {k: str(v) for k, v in values.items() if v not in (None, "")}
        self.credentials_encrypted = crypto.encrypt(json.dumps(clean, sort_keys=True).encode())
        self._credentials = clean

    @property
    def hook_path(self) -> str:
        return f"/hooks/{self.provider}/{self.slug}"


class SocialInbound(models.Model):
    """Everything a provider pushed that we accepted, stored before we answered it.

    The row is the durable inbox: the webhook writes it (screened: no secret is ever stored)
    and a task turns it into a ticket message. Unique on (account, provider_id): a provider's
    retry or a replay finds the row and is answered without a second message.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        STORED = "stored", _("Stored on a ticket")
        IGNORED = "ignored", _("Ignored (event, our own echo)")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="inbound")
    provider_id = models.CharField(max_length=200)
    sender_id = models.CharField(max_length=200)
    reply_to = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, default="message")
    event = models.CharField(max_length=60, blank=True)
    name = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=20, blank=True)
    text = models.TextField(blank=True)  # screened
    media = models.JSONField(default=list, blank=True)  # [{"ref", "url", "kind"}]
    # (where, kind) of every secret the shield removed before this row was written.
    secrets = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "provider_id"], name="uniq_social_inbound"),
        ]
        indexes = [
            models.Index(
                fields=["account", "id"], name="social_inbound_pending", condition=models.Q(state="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.provider_id}"


class SocialOutbound(models.Model):
    """One message we send through a provider: recorded before the send (state "sending" with
    a lease), its outcome right after. Retried with backoff; `dedupe_key` makes a repeated
    task send nothing twice."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRY = "retry", _("Waiting to retry")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="outbound")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=12)
    recipient = models.CharField(max_length=200)
    text = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"], name="social_outbound_ticket")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.state})"


class ProviderToken(models.Model):
    """A short-lived access token a provider issues (WeChat's access_token), shared by every
    process. Fetching a new one invalidates the old, so it is refreshed under a row lock by
    one process at a time (`tokens.current`)."""

    account = models.OneToOneField(SocialAccount, on_delete=models.CASCADE, primary_key=True)
    token_encrypted = models.BinaryField(default=b"")
    expires_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetches = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"token of {self.account}"
