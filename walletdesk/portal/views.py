"""The customer's help centre: home, contact, request form, my requests, guest tracking.

Thin views: forms validate the shape, actions decide and write, access decides who sees what.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from walletdesk.chain import lookup
from walletdesk.core import ratelimit
from walletdesk.kb import actions as kb_actions
from walletdesk.kb.render import render_markdown
from walletdesk.portal.forms import RequestForm
from walletdesk.registry.models import OfficialAddress, OfficialContact
from walletdesk.tickets import access, actions, guestlimits, identity
from walletdesk.tickets.actions import NewTicket, TicketError
from walletdesk.tickets.forms import ReplyForm
from walletdesk.tickets.models import Attachment, Category, Channel, Ticket
from walletdesk.tickets.tracking import BadTrackingToken, make_token

# Categories with a form of their own. "Account stolen" needs the identity documents that only
# the recovery form takes (checked, re-encoded, encrypted); the generic form would put them in
# plain attachments, or not at all.
DEDICATED_FORMS = {"account_stolen": "recovery:new"}

log = logging.getLogger(__name__)


def offer_first_answer(ticket: Ticket, text: str) -> None:
    """Offer the first answer on a new ticket, if one is confident (kb.answer). The ticket is
    already committed: if this fails, the customer simply waits for an agent, as before #22."""
    try:
        actions.offer_first_answer(ticket, text)
    except Exception:
        log.exception("first answer failed on %s", ticket.reference)


def form_url(category: Category) -> str:
    """Where a customer reports a problem of this category."""
    name = DEDICATED_FORMS.get(category.slug)
    return reverse(name) if name else f"{reverse('portal:new')}?category={category.slug}"


def home(request: HttpRequest) -> HttpResponse:
    tiles = [(c, form_url(c)) for c in Category.objects.filter(active=True)]
    return render(request, "portal/home.html", {"tiles": tiles})


def contact(request: HttpRequest) -> HttpResponse:
    entries = list(OfficialContact.objects.all())
    # Contract addresses are listed so people can check a token or a contract before approving
    # it; deposit addresses are not: a wallet's support never asks anyone to send crypto, and a
    # list of addresses to pay beside that promise would read as one (the verifier knows them).
    contracts = OfficialAddress.objects.filter(current=True, purpose=OfficialAddress.Purpose.CONTRACT)
    return render(
        request,
        "portal/contact.html",
        {
            "current": [e for e in entries if e.current],
            "retired": [e for e in entries if not e.current],
            "contracts": list(contracts),
        },
    )


def _too_many(exc: ratelimit.RateLimited) -> str:
    # Both languages: a guest reading the other one still learns to wait, and nothing is lost.
    minutes = max(1, round(exc.retry_after / 60))
    text = _(
        "Too many requests from your connection or address. Your text is kept below; "
        "please send it again in %(minutes)d minutes."
    ) % {"minutes": minutes}
    if (get_language() or "").startswith("zh"):
        return f"{text} Too many requests: your text is kept below; please send it again later."
    return f"{text} 请求过于频繁：您填写的内容已保留，请稍后再提交。"


def _guest_limit(request: HttpRequest, charge: ratelimit.Charge | None) -> ratelimit.RateLimited | None:
    """Count a guest's post (signed-in users are not guests); the refusal, if over the limit."""
    if request.user.is_authenticated:
        return None
    try:
        ratelimit.charge(charge)
    except ratelimit.RateLimited as exc:
        return exc
    return None


def _category_from(request: HttpRequest) -> Category | None:
    slug = request.POST.get("category") or request.GET.get("category")
    return Category.objects.filter(slug=slug, active=True).first() if slug else None


@require_http_methods(["GET", "POST"])
def new_request(request: HttpRequest) -> HttpResponse:
    category = _category_from(request)
    if request.method == "POST":
        form = RequestForm(request.POST, request.FILES, category=category, user=request.user)
        refused = None
        if form.is_valid():
            # A security report has its own bucket (tickets/guestlimits.py).
            charge = guestlimits.ticket_charge(
                request, form.cleaned_data.get("email"), form.cleaned_data["category"].slug
            )
            refused = _guest_limit(request, charge)
        if refused is not None:
            form.add_error(None, _too_many(refused))
            response = render(request, "portal/new.html", {"form": form, "category": category}, status=429)
            response["Retry-After"] = str(refused.retry_after)
            return response
        if form.is_valid():
            try:
                ticket = actions.create_ticket(
                    NewTicket(
                        subject=form.cleaned_data["subject"],
                        body=form.cleaned_data["body"],
                        channel=Channel.WEB,
                        email=form.cleaned_data.get("email"),
                        language=get_language() or "en",
                        category=form.cleaned_data["category"].slug,
                        facts=form.facts(),
                        user=request.user,
                        attachments=form.cleaned_data["attachments"],
                    )
                )
            except TicketError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                if exc.status >= 500:  # the storage failed: the form comes back, as a 503
                    return render(
                        request, "portal/new.html", {"form": form, "category": category}, status=503
                    )
            else:
                # Suggestions were shown in this visit and a ticket was still filed: not deflected.
                kb_actions.link_deflection_outcome(request.POST.get("kb_ds", ""), ticket.reference)
                offer_first_answer(ticket, f"{ticket.subject}\n{form.cleaned_data['body']}")
                return redirect("portal:submitted", token=make_token(ticket.reference, ticket.contact_id))
    else:
        # A troubleshooter's "send a request" link prefills what the customer already tried; the
        # "is this official?" page's report link, what was checked (a scammer's address as a fact).
        prefill = {key: request.GET.get(key, "")[:limit] for key, limit in (("subject", 200), ("body", 5000))}
        if category is not None:
            prefill |= {name: request.GET[name][:200] for name in category.facts if request.GET.get(name)}
        form = RequestForm(initial={"category": category, **prefill}, category=category, user=request.user)
    partial = getattr(request, "htmx", False) and request.method == "GET"
    template = "portal/_facts.html" if partial else "portal/new.html"
    dedicated_url = (
        reverse(DEDICATED_FORMS[category.slug]) if category and category.slug in DEDICATED_FORMS else ""
    )
    return render(request, template, {"form": form, "category": category, "dedicated_url": dedicated_url})


def _ticket_from_token(token: str) -> Ticket:
    try:
        ticket = access.ticket_by_tracking_token(token)
    except BadTrackingToken as exc:
        raise _LinkProblem(expired=exc.expired) from None
    if ticket is None:
        raise _LinkProblem(expired=False)
    return ticket


class _LinkProblem(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


def _bad_link(request: HttpRequest, problem: _LinkProblem) -> HttpResponse:
    return render(request, "portal/bad_link.html", {"expired": problem.expired}, status=403)


def submitted(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = _ticket_from_token(token)
    except _LinkProblem as problem:
        return _bad_link(request, problem)
    return render(
        request,
        "portal/submitted.html",
        {
            "ticket": ticket,
            "tracking_path": reverse("portal:track", args=[token]),
            **_offer_context(ticket),
            "answer_url": reverse("portal:first_answer_by_link", args=[token]),
        },
    )


def _offer_context(ticket: Ticket) -> dict[str, object]:
    """The offer and its passage as HTML: our own Markdown through the articles' renderer
    (markdown-it without raw HTML, then nh3), so it reads as the article does."""
    offer = _shown_offer(ticket)
    return {"offer": offer, "offer_html": render_markdown(offer.passage) if offer else ""}


def _shown_offer(ticket: Ticket) -> actions.Offer | None:
    """The offer a customer's page shows: the waiting one, else the last one answered."""
    found = actions.offers(ticket.pk)
    pending = [o for o in found if o.state == "pending"]
    return pending[-1] if pending else (found[-1] if found else None)


def _answer(request: HttpRequest, ticket: Ticket, back: str) -> HttpResponse:
    try:
        actions.answer_offer(
            ticket,
            request.POST.get("offer"),
            request.POST.get("choice", ""),
            user=request.user if request.user.is_authenticated else None,
        )
    except TicketError as exc:
        flash.error(request, exc.message)
    return redirect(back)


@require_POST
def first_answer_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """A press on the first answer from the tracking or confirmation page: the tracking
    token is the guest's proof of ownership (POST only, CSRF-checked by the middleware)."""
    try:
        ticket = _ticket_from_token(token)
    except _LinkProblem as problem:
        return _bad_link(request, problem)
    return _answer(request, ticket, reverse("portal:track", args=[token]))


@login_required
@require_POST
def first_answer_mine(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = access.customer_tickets(request.user).filter(reference=reference.upper()).first()
    if ticket is None:
        raise Http404
    return _answer(request, ticket, reverse("portal:my_request", args=[ticket.reference]))


def _thread_page(
    request: HttpRequest,
    ticket: Ticket,
    post_url: str,
    form: ReplyForm | None = None,
    link_token: str = "",
    status: int = 200,
) -> HttpResponse:
    messages = (
        access.visible_messages(ticket, agent=False)
        .select_related("author_user")
        .prefetch_related("attachments")
    )
    return render(
        request,
        "portal/ticket.html",
        {
            "ticket": ticket,
            "thread": messages,
            "form": form or ReplyForm(),
            "post_url": post_url,
            "link_token": link_token,
            # the status line of the customer's own transaction loads after the page (chain_status)
            "chain_status_url": _chain_status_url(ticket, link_token)
            if lookup.evm_hash(ticket.tx_hash)
            else "",
            **_offer_context(ticket),
            "answer_url": reverse("portal:first_answer_by_link", args=[link_token])
            if link_token
            else reverse("portal:first_answer", args=[ticket.reference]),
        },
        status=status,
    )


def _chain_status_url(ticket: Ticket, link_token: str) -> str:
    if link_token:
        return reverse("portal:chain_status_by_link", args=[link_token])
    return reverse("portal:chain_status", args=[ticket.reference])


def _chain_status(request: HttpRequest, ticket: Ticket, status_url: str) -> HttpResponse:
    """One line: what the chain says about the hash this ticket's customer gave (theirs only:
    the caller found the ticket the way its page does). Bounded like the desk's panel."""
    tx_hash = lookup.evm_hash(ticket.tx_hash)
    if not tx_hash:
        raise Http404
    context: dict[str, object] = {"status_url": status_url, "outcome": None}
    if ratelimit.hit(request, "chain-status", settings.RATE_LIMIT_CHAIN_STATUS):
        outcome = lookup.lookup_any(
            lookup.chains_for(ticket.chain), tx_hash, budget=float(settings.CHAIN_LOOKUP_BUDGET)
        )
        context["outcome"] = outcome
        context["poll"] = "" if outcome.settled or outcome.status == lookup.NOT_FOUND else "every 30s"
    else:
        context["poll"] = "every 60s"
    return render(request, "chain/_status_line.html", context)


@require_GET
def chain_status_by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = _ticket_from_token(token)
    except _LinkProblem as problem:
        return _bad_link(request, problem)
    return _chain_status(request, ticket, reverse("portal:chain_status_by_link", args=[token]))


@login_required
@require_GET
def chain_status(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = access.customer_tickets(request.user).filter(reference=reference.upper()).first()
    if ticket is None:
        raise Http404
    return _chain_status(request, ticket, reverse("portal:chain_status", args=[ticket.reference]))


def _handle_customer_post(
    request: HttpRequest, ticket: Ticket, post_url: str, link_token: str = ""
) -> HttpResponse:
    if request.POST.get("action") == "close":
        actions.close_by_customer(ticket, user=request.user)
        return redirect(post_url)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid() and link_token:
        refused = _guest_limit(
            request,
            ratelimit.guest_charge(
                request, "guest-reply", settings.RATE_LIMIT_GUEST_REPLY, ticket.contact.email
            ),
        )
        if refused is not None:
            form.add_error(None, _too_many(refused))
            response = _thread_page(request, ticket, post_url, form, link_token, status=429)
            response["Retry-After"] = str(refused.retry_after)
            return response
    if form.is_valid():
        try:
            actions.add_customer_message(
                ticket,
                form.cleaned_data["body"],
                channel=Channel.WEB,
                user=request.user,
                attachments=form.cleaned_data["attachments"],
            )
        except TicketError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(post_url)
    return _thread_page(request, ticket, post_url, form, link_token)


@require_http_methods(["GET", "POST"])
def track(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ticket = _ticket_from_token(token)
    except _LinkProblem as problem:
        return _bad_link(request, problem)
    url = reverse("portal:track", args=[token])
    if request.method == "POST":
        return _handle_customer_post(request, ticket, url, token)
    return _thread_page(request, ticket, url, link_token=token)


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The owner of a typed address confirms that a request filed with it is theirs.

    The link was mailed to the address only. GET shows what is being confirmed and a button;
    only the POST changes anything (mail scanners follow links). A used, expired or tampered
    link gets the bad-link page.
    """
    try:
        found = access.ticket_by_confirm_token(token)
    except identity.BadConfirmToken as exc:
        return _bad_link(request, _LinkProblem(expired=exc.expired))
    if found is None:
        return _bad_link(request, _LinkProblem(expired=False))
    ticket, email = found
    if request.method == "POST":
        try:
            ticket = actions.confirm_claim(ticket, email=email, user=request.user)
        except TicketError:
            return _bad_link(request, _LinkProblem(expired=False))
        if access.customer_owns(request.user, ticket):
            return redirect("portal:my_request", reference=ticket.reference)
        # The old tracking link named the claim contact and no longer opens the ticket:
        # whoever typed the address cannot follow a request its owner has taken over.
        return redirect("portal:track", token=make_token(ticket.reference, ticket.contact_id))
    return render(request, "portal/confirm.html", {"ticket": ticket, "email": email})


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    tickets = access.customer_tickets(request.user).select_related("category").order_by("-created_at")[:200]
    claims = access.claims_of(request.user).order_by("-created_at")[:50]
    return render(request, "portal/my_requests.html", {"tickets": tickets, "claims": claims})


@login_required
@require_POST
def confirm_mine(request: HttpRequest, reference: str) -> HttpResponse:
    """The signed-in owner of the address confirms a request filed with it is theirs."""
    ticket = access.claims_of(request.user).filter(reference=reference.upper()).first()
    if ticket is None:
        raise Http404
    try:
        actions.confirm_claim(ticket, email=str(ticket.contact.email), user=request.user)
    except TicketError:
        raise Http404 from None
    return redirect("portal:my_request", reference=ticket.reference)


@login_required
@require_http_methods(["GET", "POST"])
def my_request(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = (
        access.customer_tickets(request.user)
        .select_related("category", "contact")
        .filter(reference=reference.upper())
        .first()
    )
    if ticket is None:
        raise Http404
    url = reverse("portal:my_request", args=[ticket.reference])
    if request.method == "POST":
        return _handle_customer_post(request, ticket, url)
    return _thread_page(request, ticket, url)


def attachment(request: HttpRequest, pk: int, token: str = "") -> FileResponse:
    """Files are streamed only to someone who may see the ticket; there is no public media URL."""
    item = (
        Attachment.objects.select_related("message__ticket__contact", "message__ticket__team")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404
    if not access.may_see_attachment(request.user, item, token):
        # The same answer as a missing file: an id someone else's file has reveals nothing.
        raise Http404
    response = FileResponse(
        item.file.open("rb"), content_type=item.content_type, as_attachment=True, filename=item.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
