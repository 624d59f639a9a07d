"""Where a waiting chat stands: who is online to take it, its place in line, the notice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.chat.models import ChatAgent, Conversation, Presence, State


def notice() -> str:
    return _("Support is free. We never ask for your recovery phrase or private key.")


def online(now: Any = None) -> Q:
    now = now or timezone.now()
    return Q(presence=Presence.ONLINE, seen_at__gte=now - timedelta(seconds=ChatAgent.ONLINE_SECONDS))


def queue_position(conversation: Conversation) -> int | None:
    if conversation.state != State.WAITING:
        return None
    ahead = Conversation.objects.filter(state=State.WAITING, queued_at__lt=conversation.queued_at)
    team_id = conversation.ticket.team_id
    ahead = ahead.filter(ticket__team__isnull=True) if team_id is None else ahead.filter(ticket__team=team_id)
    return ahead.count() + 1


def anyone_online(conversation: Conversation) -> bool:
    agents = ChatAgent.objects.filter(online(), user__is_active=True)
    if conversation.ticket.team_id is not None:
        agents = agents.filter(user__teams=conversation.ticket.team_id)
    return agents.exists()
