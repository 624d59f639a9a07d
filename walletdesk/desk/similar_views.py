"""The ticket page's "similar solved tickets" panel (walletdesk.tickets.similar does the work).

Loaded after the page (htmx), because the first one in a process loads the model (~0.1 s) and
every one embeds the ticket's question (~20 ms of CPU here). Only agents who may open the
ticket get it (the 404 of an unknown ticket otherwise), and it lists only tickets they may
open themselves. Customers have no route to it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from walletdesk.core.agents import agent_required
from walletdesk.desk.views import _ticket
from walletdesk.tickets import similar


@agent_required
@require_GET
def panel(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    return render(
        request,
        "desk/_similar.html",
        {"ticket": ticket, "similar": similar.similar_to(ticket, request.user), "loaded": True},
    )
