"""The ticket page's on-chain panel: the customer's transaction hash looked up, and a form to look
up another (walletdesk.chain.lookup does the work; this module decides who may ask).

Why in the request and not in a task: the look-up's answer lives in the Django cache, which in
the embedded mode is each process's own memory, so a worker's answer would never reach the
web process that polls for it (and a table for it would be a second cache). The panel loads
after the page (htmx), so the ticket page itself never waits on a chain, and the look-up is
bounded: ``CHAIN_LOOKUP_BUDGET`` seconds for every chain and URL together (no request starts
after it, none waits beyond it; ``rpc.ChainClient.deadline``). Pending and unconfirmed answers
are polled every 10 s, and cached 5 s, so a panel left open costs a node one call set per 5 s.

Only agents who may see the ticket (``access`` through ``views._ticket``) see its panel or can
look up through it; others get the 404 an unknown ticket gets. Both endpoints count against
``RATE_LIMIT_CHAIN_LOOKUP`` per agent.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from walletdesk.chain import keycheck, lookup
from walletdesk.core import ratelimit
from walletdesk.core.agents import agent_required
from walletdesk.desk.views import _ticket
from walletdesk.tickets.models import Ticket
from walletdesk.tickets.screening import screen_value

POLL = "every 10s"
_NEAR_HASH = re.compile(r"0[xX][0-9a-fA-F]{0,70}")


def _allowed(request: HttpRequest) -> bool:
    return ratelimit.hit(
        request, "chain-lookup", settings.RATE_LIMIT_CHAIN_LOOKUP, key=f"agent:{request.user.pk}"
    )


def _panel(request: HttpRequest, ticket: Ticket, **context: Any) -> HttpResponse:
    context.setdefault("tx_hash", "")
    context.setdefault("outcome", None)
    context.setdefault("source", "fact")
    outcome = context["outcome"]
    if context["source"] == "fact" and outcome is not None and not outcome.settled:
        context.setdefault("poll", POLL)  # pending, unconfirmed or unreachable: look again
    status = context.pop("status", 200)
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: the refusal is in the panel it swaps in
        template, status = "chain/_tx_panel.html", 200
    else:
        template = "desk/chain_lookup.html"
    return render(
        request,
        template,
        {
            "ticket": ticket,
            "panel_url": reverse("agent:chain_panel", args=[ticket.reference]),
            "lookup_url": reverse("agent:chain_lookup", args=[ticket.reference]),
            **context,
        },
        status=status,
    )


@agent_required
@require_GET
def panel(request: HttpRequest, reference: str) -> HttpResponse:
    """The look-up of the hash the customer gave (htmx: loaded after the page, then polled)."""
    ticket = _ticket(request, reference)
    tx_hash = lookup.evm_hash(ticket.tx_hash)
    if not tx_hash:
        return _panel(request, ticket)
    if not _allowed(request):
        return _panel(request, ticket, tx_hash=tx_hash, limited=True, poll="every 60s", status=429)
    outcome = lookup.lookup_any(
        lookup.chains_for(ticket.chain), tx_hash, budget=float(settings.CHAIN_LOOKUP_BUDGET)
    )
    if outcome.status == lookup.NOT_FOUND and outcome.not_found_on:
        # found nowhere: maybe not a hash at all but the customer's private key (same shape)
        keycheck.check_soon(ticket, tx_hash)
    return _panel(request, ticket, tx_hash=tx_hash, outcome=outcome)


@agent_required
@require_POST
def lookup_hash(request: HttpRequest, reference: str) -> HttpResponse:
    """An agent pastes a hash (from a screenshot, another chat) and sees it on this ticket."""
    ticket = _ticket(request, reference)
    raw = request.POST.get("tx_hash", "")
    value = raw.strip()
    if not lookup.TX_HASH.fullmatch(value):
        # Echo only a near-miss hash (to fix a typo), never other text: an agent may paste a
        # customer's recovery phrase or key here by mistake.
        shown = value if _NEAR_HASH.fullmatch(value) and not screen_value(value).secret_kinds else ""
        error = _(
            "A transaction hash is 0x followed by 64 hexadecimal characters: copy it from the explorer."
        )
        return _panel(request, ticket, source="pasted", form_error=error, form_value=shown, status=422)
    if not _allowed(request):
        return _panel(request, ticket, source="pasted", form_value=value, limited=True, status=429)
    outcome = lookup.lookup_any(
        lookup.chains_for(ticket.chain), value, budget=float(settings.CHAIN_LOOKUP_BUDGET)
    )
    return _panel(request, ticket, tx_hash=value.lower(), outcome=outcome, source="pasted", form_value=value)
