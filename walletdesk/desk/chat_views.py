"""The agent's live chat panel: one page; everything live comes over the agent socket
(/ws/chat/agent/, docs/chat-protocol.md section 4). The page carries the words its script
shows (data- attributes, in the page's language), where to connect, and, for a chat opened by
reference (`?open=WD-…`, e.g. to take it over), that chat's summary: the socket's hello lists
only the agent's own chats and the waiting ones."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from walletdesk.chat import frames
from walletdesk.chat.models import Conversation
from walletdesk.core.agents import agent_required
from walletdesk.tickets import access
from walletdesk.tickets.models import Channel

# The ticket page's URL with a placeholder the script replaces with a chat's reference.
_REFERENCE_SLOT = "WD-REFERENCE"


def _summary(request: HttpRequest, reference: str) -> dict[str, object] | None:
    """The chat's summary if this agent may open it (as the socket's join decides)."""
    ticket = access.agent_tickets(request.user).filter(reference=reference, channel=Channel.CHAT).first()
    if ticket is None:
        return None
    conversation = (
        Conversation.objects.select_related("ticket__contact", "agent").filter(pk=ticket.pk).first()
    )
    return frames.chat_summary(conversation) if conversation is not None else None


@agent_required
@require_GET
def chats(request: HttpRequest) -> HttpResponse:
    opening = request.GET.get("open", "")[:40].upper()
    if not opening.replace("-", "").isalnum():
        opening = ""
    summary = _summary(request, opening) if opening else None
    return render(
        request,
        "desk/chats.html",
        {
            "ticket_url": reverse("agent:ticket", kwargs={"reference": _REFERENCE_SLOT}),
            "reference_slot": _REFERENCE_SLOT,
            "opening": opening,
            "opening_summary": json.dumps(summary, ensure_ascii=False) if summary else "",
        },
    )
