"""Customer pages for linked addresses. Thin: the actions validate and write.

Only the signed-in customer's own data: no user id in any URL, and every lookup is filtered by
`request.user`. Agents have their own desk views; these pages are for customers only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from walletdesk.accounts.models import User
from walletdesk.chain import actions, lookup, notices, rules
from walletdesk.chain.actions import ChainError
from walletdesk.chain.models import ChainAlert, ChainEvent, ChainToken, LinkChallenge, LinkedAddress
from walletdesk.core.agents import is_agent
from walletdesk.core.clientip import client_ip


def _me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # customer_required: signed in


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_agent(request.user):
            raise PermissionDenied  # a staff account is not a wallet customer
        return view(request, *args, **kwargs)

    return wrapper


@customer_required
@require_GET
@never_cache
def addresses(request: HttpRequest) -> HttpResponse:
    linked = LinkedAddress.objects.filter(user_id=_me(request).pk)
    return render(request, "chain/addresses.html", {"linked": linked, "address": ""})


@customer_required
@require_POST
def start_link(request: HttpRequest) -> HttpResponse:
    try:
        challenge = actions.start_link(
            request.user,
            request.POST.get("address", ""),
            site=request.build_absolute_uri("/"),
            ip=client_ip(request),
        )
    except ChainError as exc:
        linked = LinkedAddress.objects.filter(user_id=_me(request).pk)
        # A refused secret is never echoed back into the form.
        shown = "" if exc.code == "secret" else request.POST.get("address", "")[:42]
        return render(
            request,
            "chain/addresses.html",
            {"linked": linked, "error": exc.message, "address": shown},
            status=422,
        )
    return redirect("chain:confirm_link", nonce=challenge.nonce)


@customer_required
@require_http_methods(["GET", "POST"])
@never_cache
def confirm_link(request: HttpRequest, nonce: str) -> HttpResponse:
    challenge = LinkChallenge.objects.filter(nonce=nonce, user_id=_me(request).pk).first()
    if challenge is None:
        raise Http404
    context: dict[str, Any] = {"challenge": challenge, "checksum": actions.rules.checksum(challenge.address)}
    if request.method == "POST":
        try:
            actions.confirm_link(
                request.user, nonce, request.POST.get("signature", ""), ip=client_ip(request)
            )
        except ChainError as exc:
            context["error"] = exc.message
            return render(request, "chain/confirm_link.html", context, status=422)
        messages.success(request, _("The address is linked. We will alert you about risky activity on it."))
        return redirect("chain:addresses")
    return render(request, "chain/confirm_link.html", context)


@customer_required
@require_POST
def unlink(request: HttpRequest, linked_id: int) -> HttpResponse:
    try:
        actions.unlink(request.user, linked_id, ip=client_ip(request))
    except ChainError:
        raise Http404 from None
    messages.success(request, _("The address is unlinked."))
    return redirect("chain:addresses")


ACTIVITY_LIMIT = 100


@dataclass
class Row:
    event: ChainEvent
    address: str  # the customer's address in this event
    direction: str  # "in", "out", "approval"
    counterparty: str
    amount: str
    flags: list[dict[str, str]]
    explorer: str
    report_url: str


@customer_required
@require_GET
@never_cache
def activity(request: HttpRequest) -> HttpResponse:
    """The customer's linked addresses' stored history, newest first, with the rules' flags."""
    mine = set(LinkedAddress.objects.filter(user_id=_me(request).pk).values_list("address", flat=True))
    events = list(
        ChainEvent.objects.filter(Q(sender__in=mine) | Q(recipient__in=mine))
        .select_related("chain")
        .order_by("-block_number", "-log_index")[:ACTIVITY_LIMIT]
    )
    # One query for the page's tokens' decimals, one for every flag of the page (none per row).
    tokens = {
        (t.chain_id, t.address): t
        for t in ChainToken.objects.filter(address__in={e.token for e in events if e.standard == "erc20"})
    }
    alerts: dict[tuple[int, str, int, str], list[ChainAlert]] = {}
    for alert in ChainAlert.objects.filter(address__in=mine, tx_hash__in={e.tx_hash for e in events}):
        alerts.setdefault((alert.chain_id, alert.tx_hash, alert.log_index, alert.address), []).append(alert)
    rows = []
    new_request = reverse("portal:new")
    for e in events:
        address = e.sender if e.sender in mine else e.recipient
        direction = (
            "approval" if e.kind != ChainEvent.Kind.TRANSFER else ("out" if e.sender in mine else "in")
        )
        counterparty = e.recipient if e.sender in mine else e.sender
        flags = [
            {
                "title": notices.title(a.rule),
                "reason": notices.reason(a.rule, a.params),
                "severity": a.severity,
                "revoke": notices.revoke_call(a.rule, a.params),
            }
            for a in alerts.get((e.chain_id, e.tx_hash, e.log_index, address), [])
        ]
        query = urlencode(
            {
                "category": actions.ALERT_CATEGORY,
                "wallet_address": rules.checksum(address),
                "tx_hash": e.tx_hash,
                "chain": e.chain.name[:40],
            }
        )
        rows.append(
            Row(
                event=e,
                address=rules.checksum(address),
                direction=direction,
                counterparty=rules.checksum(counterparty),
                amount=_amount(e, tokens.get((e.chain_id, e.token))),
                flags=flags,
                explorer=actions.explorer_tx(e.chain, e.tx_hash),
                report_url=f"{new_request}?{query}",
            )
        )
    return render(request, "chain/activity.html", {"rows": rows, "linked": bool(mine)})


def _amount(e: ChainEvent, token: ChainToken | None = None) -> str:
    """What moved, as a person reads it: 1 USDT (with the token's address, as any token may call
    itself USDT) when the token's decimals are known, the raw integer in "units" when not."""
    value = int(e.value)
    if e.kind == ChainEvent.Kind.APPROVAL_FOR_ALL:
        return _("all NFTs") if e.approved else _("revoked")
    if e.kind == ChainEvent.Kind.APPROVAL and value >= 2**128:
        return _("unlimited")
    if e.standard == rules.NATIVE:
        return f"{lookup.units(value, lookup.NATIVE_DECIMALS).normalize():f} {e.chain.native_symbol}"
    if e.standard == "erc721":
        return f"NFT #{e.token_id}"
    short = rules.checksum(e.token)[:10] + "…"
    if e.standard == "erc20" and token is not None and token.decimals is not None:
        amount = f"{lookup.units(value, token.decimals):f}"
        if token.symbol:
            return _("%(amount)s %(symbol)s (token %(token)s)") % {
                "amount": amount,
                "symbol": token.symbol,
                "token": short,
            }
        return _("%(amount)s of token %(token)s") % {"amount": amount, "token": short}
    return _("%(amount)s units of %(token)s") % {"amount": value, "token": short}
