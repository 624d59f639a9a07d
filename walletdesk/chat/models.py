"""Live chat: a conversation is a ticket with channel `chat`; these rows hold what only a live
conversation has (its socket key, its queue place, read receipts), and each agent's chat state."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from walletdesk.tickets.models import Ticket


def new_key() -> str:
    return secrets.token_urlsafe(18)


class State(models.TextChoices):
    WAITING = "waiting", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    ENDED = "ended", _("Ended")


class Conversation(models.Model):
    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="chat")
    # The socket credential signs this key (chat.credentials): replacing it revokes every
    # link handed out for the conversation.
    key = models.CharField(max_length=40, default=new_key, editable=False)
    language = models.CharField(max_length=10, default="en")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(db_index=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    customer_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["state", "queued_at"], name="chat_conv_queue_idx")]

    def __str__(self) -> str:
        return f"chat {self.ticket_id} ({self.state})"


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")


class ChatAgent(models.Model):
    """An agent's chat state. Online means: set online, and a socket of theirs was heard from
    in the last `ONLINE_SECONDS` (a closed laptop stops taking chats by itself)."""

    ONLINE_SECONDS = 90

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="chat_state"
    )
    presence = models.CharField(max_length=10, choices=Presence.choices, default=Presence.AWAY)
    capacity = models.PositiveSmallIntegerField(
        _("concurrent chats"), default=4, help_text=_("How many chats this agent takes at once.")
    )
    # Languages this agent chats in ("en", "zh"); empty: any.
    languages = models.JSONField(default=list, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.presence})"
