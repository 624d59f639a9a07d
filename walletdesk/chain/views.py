"""Customer pages for linked addresses. Thin: the actions validate and write.

Only the signed-in customer's own data: no user id in any URL, and every lookup is filtered by
`request.user`. Agents have their own desk views; these pages are for customers only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from walletdesk.accounts.models import User
from walletdesk.chain import actions
from walletdesk.chain.actions import ChainError
from walletdesk.chain.models import LinkChallenge, LinkedAddress
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
