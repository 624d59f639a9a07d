"""The agent's live chat panel: one page; everything live comes over the agent socket
(/ws/chat/agent/, docs/chat-protocol.md section 4). The page itself carries no chat data, only
the words the script shows (data- attributes, in the page's language) and where to connect."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from walletdesk.core.agents import agent_required

# The ticket page's URL with a placeholder the script replaces with a chat's reference.
_REFERENCE_SLOT = "WD-REFERENCE"


@agent_required
@require_GET
def chats(request: HttpRequest) -> HttpResponse:
    opening = request.GET.get("open", "")[:40].upper()
    return render(
        request,
        "desk/chats.html",
        {
            "ticket_url": reverse("agent:ticket", kwargs={"reference": _REFERENCE_SLOT}),
            "reference_slot": _REFERENCE_SLOT,
            "opening": opening if opening.replace("-", "").isalnum() else "",
        },
    )
