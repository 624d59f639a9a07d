"""The email channel's own records: mailboxes, every mail received, every mail sent.

Tickets and messages live in `tickets`; these rows say where a message came from (the raw
bytes, kept encrypted), what happened to mail that did not become a message (ignored,
quarantined) and which Message-IDs we sent, for threading replies.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from walletdesk.accounts import crypto


class Mailbox(models.Model):
    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        NONE = "none", _("None (loopback and tests only)")

    name = models.CharField(max_length=80, unique=True)
    address = models.EmailField(
        blank=True, help_text="The address customers write to; never acknowledged (no mail loops)."
    )
    host = models.CharField(max_length=200)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=200)
    # Fernet token (walletdesk.accounts.crypto, DOCUMENT_KEYS); write-only in the admin.
    secret_encrypted = models.BinaryField(editable=False, default=b"")
    folder = models.CharField(max_length=200, default="INBOX")
    default_category = models.ForeignKey(
        "tickets.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_team = models.ForeignKey(
        "tickets.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    poll_seconds = models.PositiveIntegerField(default=60)

    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_fetched = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.name

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret.encode()) if secret else b""

    def get_secret(self) -> str:
        token = bytes(self.secret_encrypted or b"")
        return crypto.decrypt(token).decode() if token else ""

    @property
    def healthy(self) -> bool:
        if self.last_error_at is None:
            return self.last_success_at is not None
        return self.last_success_at is not None and self.last_success_at > self.last_error_at


class Outcome(models.TextChoices):
    CREATED = "created", _("New ticket")
    APPENDED = "appended", _("Added to a ticket")
    DUPLICATE = "duplicate", _("Duplicate")
    IGNORED = "ignored", _("Ignored (auto-reply or bounce)")
    QUARANTINED = "quarantined", _("Quarantined")


class InboundEmail(models.Model):
    """One received mail, whatever became of it: the original bytes are never thrown away."""

    # Message-ID without <>, or "sha256:<hash of the raw bytes>" when the mail has none.
    key = models.CharField(max_length=255, unique=True)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=10, default="imap")  # imap, pipe, webhook, test
    raw_encrypted = models.BinaryField()  # Fernet token of the raw RFC 5322 bytes
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, db_index=True)
    reason = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    reprocessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["outcome", "received_at"], name="inbound_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.outcome}: {self.key}"

    @property
    def raw(self) -> bytes:
        return crypto.decrypt(bytes(self.raw_encrypted))


class OutboundEmail(models.Model):
    """One mail we send: its Message-ID threads the customer's reply back to the ticket."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        RETRY = "retry", _("Waiting to retry")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed for good")
        SUPPRESSED = "suppressed", _("Not sent (loop protection)")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20)  # created, reply, solved
    automatic = models.BooleanField(default=False)
    # Makes the notify task idempotent: "created:<ticket>" and "reply:<message>" send once.
    dedupe_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    message_id_header = models.CharField(max_length=255, unique=True)  # our Message-ID, without <>
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)  # space-separated, without <>
    to_address = models.CharField(max_length=254, db_index=True)
    subject = models.CharField(max_length=255)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set when an attempt starts (state "sending"): past it, the sender is taken for dead and
    # the mail is sent again, once, with the same Message-ID (outbound.recover_stalled).
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["to_address", "automatic", "created_at"], name="outbound_rate_idx")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address} ({self.state})"


class PollerLease(models.Model):
    """A single row: the poll chain that holds the lease polls, any duplicate chain ends itself."""

    lease_until = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"poller lease until {self.lease_until:%Y-%m-%d %H:%M:%S}"
