"""The agent desk: inbox, ticket page, phone log. Every state change is a POST to an action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages as flash
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from walletdesk.accounts.agent_tools import recovery_summary, security_summary
from walletdesk.connectors.social import outbound as social_outbound
from walletdesk.connectors.social.base import Window, providers
from walletdesk.core.agents import agent_required
from walletdesk.desk.forms import (
    AgentReplyForm,
    BulkForm,
    MergeForm,
    PhoneTicketForm,
    TakeForm,
    TicketPropertiesForm,
)
from walletdesk.sla.clock import current_due, sla_state
from walletdesk.tickets import access, actions, identity, inbox
from walletdesk.tickets.actions import NewTicket, ReplyCollision, StaleTicket, TicketError
from walletdesk.tickets.models import (
    Category,
    Channel,
    Priority,
    Status,
    Team,
    Ticket,
    TicketEvent,
)

View = Callable[..., HttpResponse]


def _ticket(request: HttpRequest, reference: str) -> Ticket:
    ticket = (
        access.agent_tickets(request.user)
        .select_related("category", "team", "assignee", "contact")
        .filter(reference=reference.upper())
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def _view_tabs(counts: dict[str, int]) -> list[tuple[str, str, int | None]]:
    labels = {
        "unassigned": _("Unassigned"),
        "mine": _("Mine"),
        "urgent": _("Urgent"),
        "open": _("All open"),
        "all": _("Everything"),
    }
    return [(key, str(labels[key]), counts.get(key)) for key in inbox.VIEWS]


@agent_required
@require_GET
def inbox_view(request: HttpRequest) -> HttpResponse:
    params = {
        key: request.GET.get(key) or None
        for key in ("view", "status", "priority", "category", "channel", "team", "q")
    }
    params["view"] = params["view"] if params["view"] in inbox.VIEWS else "open"
    sort = request.GET.get("sort")
    params["sort"] = sort if sort in inbox.SORTS else inbox.default_sort(params["view"])
    visible = access.agent_tickets(request.user)
    tickets = inbox.filtered(visible, request.user, params)
    cursor = request.GET.get("cursor")
    next_cursor: int | str | None
    if params["sort"] == "due":
        rows, next_cursor = inbox.page_by_due(tickets, cursor=cursor, limit=50)
    else:
        rows, next_cursor = inbox.page(
            tickets, cursor=int(cursor) if cursor and cursor.isdigit() else None, limit=50
        )
    now = timezone.now()
    for ticket in rows:
        ticket.sla_state = sla_state(ticket, now)  # type: ignore[attr-defined]
        ticket.due = current_due(ticket)  # type: ignore[attr-defined]
    context = {
        "rows": rows,
        "next_cursor": next_cursor,
        "params": params,
        "views": _view_tabs(inbox.counts(visible, request.user)),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "channels": Channel.choices,
        "categories": Category.objects.filter(active=True),
        "teams": Team.objects.all(),
        "now": now,
        "bulk_form": BulkForm(),
        "back": _inbox_query(request.GET),
    }
    return render(request, "desk/inbox.html", context)


INBOX_PARAMS = ("view", "status", "priority", "category", "channel", "team", "q", "sort", "cursor")


def _inbox_query(query: QueryDict) -> str:
    """The inbox's own parameters of a query (view, filters, sort, page), nothing else: where a
    bulk action goes back to, so it can only ever lead to the inbox."""
    kept = QueryDict(mutable=True)
    for key in INBOX_PARAMS:
        value = query.get(key)
        if value and len(value) <= 200:
            kept[key] = value
    return kept.urlencode()


def _stale_reason(reference: str, exc: StaleTicket) -> str:
    changes = exc.extra.get("changes") or []
    if changes:
        return _("%(ref)s was changed by %(who)s meanwhile") % {"ref": reference, "who": changes[0]["who"]}
    return _("%(ref)s was changed meanwhile") % {"ref": reference}


@agent_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One change to the tickets ticked in the inbox, each through its action and from the
    version its row was rendered with: a row changed since is refused and named, the others are
    applied (each in its own transaction). A reference the agent may not see is treated like
    one that does not exist: nothing is done to it and it is not named, only counted as not
    found, so the answer is the same whether it exists or not. Goes back to the same inbox view
    and filters."""
    back = reverse("agent:inbox")
    query = _inbox_query(QueryDict(request.POST.get("back", "")))
    if query:
        back = f"{back}?{query}"
    form = BulkForm(request.POST)
    if not form.is_valid():
        flash.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    data = form.cleaned_data
    rows: dict[str, int] = data["rows"]
    found = Ticket.objects.select_related("team", "contact").filter(reference__in=list(rows))
    by_ref = {t.reference: t for t in found if access.agent_can_see(request.user, t)}
    selected = [(ref, by_ref[ref], version) for ref, version in rows.items() if ref in by_ref]
    missing = len(rows) - len(selected)
    done: list[str] = []
    refused: list[str] = []
    merged_into: str | None = None
    op = data["op"]
    if op == "merge":
        done, refused, merged_into = _bulk_merge(request, selected, data["merge_into"].strip().upper())
        if merged_into is None:
            flash.error(request, _("Choose which of the selected tickets to merge into."))
            return redirect(back)
    else:
        for ref, ticket, version in selected:
            try:
                if op == "assign_me":
                    actions.assign(ticket, request.user, actor=request.user, version=version)
                elif op == "assign":
                    actions.assign(ticket, data["assignee"], actor=request.user, version=version)
                elif op == "status":
                    actions.change_status(ticket, data["status"], actor=request.user, version=version)
                else:
                    actions.set_team(ticket, data["team"], actor=request.user, version=version)
            except StaleTicket as exc:
                refused.append(_stale_reason(ref, exc))
            except TicketError as exc:
                refused.append(f"{ref}: {exc.message}")
            else:
                done.append(ref)
    if op == "merge" and done:
        parts = [
            ngettext(
                "%(count)d ticket merged into %(ref)s",
                "%(count)d tickets merged into %(ref)s",
                len(done),
            )
            % {"count": len(done), "ref": merged_into}
        ]
    else:
        parts = [
            ngettext("%(count)d ticket updated", "%(count)d tickets updated", len(done))
            % {"count": len(done)}
        ]
    if refused:
        parts.append(
            ngettext("%(count)d not changed: %(why)s", "%(count)d not changed: %(why)s", len(refused))
            % {"count": len(refused), "why": _("; ").join(refused)}
        )
    if missing:
        parts.append(
            ngettext(
                "%(count)d selected ticket was not found",
                "%(count)d selected tickets were not found",
                missing,
            )
            % {"count": missing}
        )
    message = _("; ").join(parts) + _(".")
    (flash.warning if refused or missing else flash.success)(request, message)
    return redirect(back)


def _bulk_merge(
    request: HttpRequest, selected: list[tuple[str, Ticket, int]], target_ref: str
) -> tuple[list[str], list[str], str | None]:
    """Merge the selected tickets into the one of them named `target_ref`: each source in its own
    transaction, which first locks both rows (primary-key order) and checks the versions the
    rows were rendered with (the target's moves on with each merge made here). A stale target
    stops the rest: they would merge into a ticket the agent has not seen as it is."""
    target_row = next(((t, v) for ref, t, v in selected if ref == target_ref), None)
    if target_row is None:
        return [], [], None
    target, target_version = target_row
    done: list[str] = []
    refused: list[str] = []
    sources = [(ref, t, v) for ref, t, v in selected if ref != target_ref]
    for index, (ref, source, version) in enumerate(sources):
        stale_target: StaleTicket | None = None
        try:
            with transaction.atomic():
                pair = sorted(((source, version), (target, target_version)), key=lambda row: row[0].pk)
                for ticket, expected in pair:
                    try:
                        actions.check_version(ticket, expected)
                    except StaleTicket as exc:
                        stale_target = exc if ticket.pk == target.pk else None
                        raise
                target = actions.merge(source, target, actor=request.user)
                target_version = target.version
        except StaleTicket as exc:
            if stale_target is not None:
                refused.append(_stale_reason(target_ref, stale_target))
                refused.extend(_("%(ref)s not merged") % {"ref": r} for r, _t, _v in sources[index:])
                break
            refused.append(_stale_reason(ref, exc))
        except TicketError as exc:
            refused.append(f"{ref}: {exc.message}")
        else:
            done.append(ref)
    return done, refused, target_ref


def _ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    reply_form: AgentReplyForm | None = None,
    risks: list[dict[str, Any]] | None = None,
    status: int = 200,
    stale: StaleTicket | None = None,
) -> HttpResponse:
    """The ticket page. Its forms carry the version it shows (`ticket.version`); `stale`: a
    change refused because the ticket moved on (shown above the thread, or above the reply
    when it asks to confirm a reply)."""
    thread = (
        access.visible_messages(ticket, agent=True)
        .select_related("author_user")
        .prefetch_related("attachments")
    )
    others = (
        access.agent_tickets(request.user)
        .filter(contact=ticket.contact)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:10]
    )
    events = list(TicketEvent.objects.filter(ticket=ticket).select_related("actor"))
    confirmed = next((e.data for e in reversed(events) if e.kind == "identity_confirmed"), None)
    # Account history and account actions only for an account the requester proved to be.
    account = identity.account_of(ticket)
    props = TicketPropertiesForm(
        initial={
            "status": ticket.status,
            "priority": ticket.priority,
            "assignee": ticket.assignee_id,
            "team": ticket.team_id,
            "version": ticket.version,
        }
    )
    return render(
        request,
        "desk/ticket.html",
        {
            "ticket": ticket,
            "thread": thread,
            "others": others,
            "events": events,
            "reply_form": reply_form or AgentReplyForm(initial={"version": ticket.version}),
            "props_form": props,
            "stale": stale,
            "collision": isinstance(stale, ReplyCollision),
            "merge_form": MergeForm(),
            "risks": risks,
            "sla_state": sla_state(ticket, timezone.now()),
            "due": current_due(ticket),
            "identity": identity.status(ticket, confirmed),
            "account_security": security_summary(account, request.user),
            "recovery": recovery_summary(
                ticket.pk, can_view_documents=access.may_view_identity_documents(request.user, ticket)
            ),
            "reply_window": _reply_window(ticket),
            "deliveries": _deliveries(ticket),
        },
        status=status,
    )


def _deliveries(ticket: Ticket) -> dict[int, Any]:
    """Per public message of a social ticket, what became of it on the provider (sent, waiting
    to retry, not delivered and why): the agent sees whether the customer got the answer."""
    if ticket.channel not in providers():
        return {}
    return social_outbound.deliveries(ticket)


def _reply_window(ticket: Ticket) -> Window | None:
    """The provider's reply window, for the composer of a social ticket whose provider limits
    it (WeChat: 48 hours, 5 messages); None when there is nothing to say."""
    if ticket.channel not in providers():
        return None
    window = social_outbound.window(ticket)
    if window is None or (window.open and window.closes_at is None and window.remaining is None):
        return None
    return window


@agent_required
@require_GET
def ticket_view(request: HttpRequest, reference: str) -> HttpResponse:
    return _ticket_page(request, _ticket(request, reference))


@agent_required
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = AgentReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _ticket_page(request, ticket, form, status=400)
    try:
        actions.add_agent_message(
            ticket,
            form.cleaned_data["body"],
            agent=request.user,
            internal=form.cleaned_data["internal"],
            new_status=form.cleaned_data["status"] or None,
            attachments=form.cleaned_data["attachments"],
            override_risks=form.cleaned_data["override_risks"],
            version=form.cleaned_data["version"],
        )
    except StaleTicket as exc:
        # Someone replied (or changed the status this reply sets) since the agent opened the
        # page: nothing sent. The page shows the thread as it is now, the reply as typed, and
        # the version it now answers, so "Send anyway" is a decision made having seen it.
        data = request.POST.copy()
        data["version"] = str(exc.extra["version"])
        form = AgentReplyForm(data)
        form.is_valid()
        return _ticket_page(request, _ticket(request, reference), form, stale=exc, status=409)
    except TicketError as exc:
        form.add_error("body", exc.message)
        risks = exc.extra.get("risks")
        if risks:
            # Ask again with the override set: the agent must confirm explicitly.
            data = request.POST.copy()
            data["override_risks"] = "on"
            form = AgentReplyForm(data)
            form.is_valid()
            form.add_error("body", exc.message)
        return _ticket_page(request, ticket, form, risks=risks, status=400)
    flash.success(request, _("Sent.") if not form.cleaned_data["internal"] else _("Note added."))
    return redirect("agent:ticket", reference=ticket.reference)


@agent_required
@require_POST
def send_template(request: HttpRequest, reference: str) -> HttpResponse:
    """WeChat's template message, offered when the reply window is closed: a fixed notice that
    the request has an answer, linking its tracking page."""
    ticket = _ticket(request, reference)
    if not access.agent_can_see(request.user, ticket):
        raise Http404
    try:
        sent = social_outbound.send_template(ticket, agent=request.user)
    except TicketError as exc:
        flash.error(request, exc.message)
    else:
        if sent.state == "sent":
            flash.success(request, _("Template message sent."))
        elif sent.state == "failed":
            flash.error(
                request, _("The template message was not delivered: %(why)s") % {"why": sent.last_error}
            )
        else:
            flash.warning(request, _("The template message could not be sent yet; it will be tried again."))
    return redirect("agent:ticket", reference=ticket.reference)


@agent_required
@require_POST
def update(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = TicketPropertiesForm(request.POST)
    if not form.is_valid():
        if "version" in form.errors:
            flash.error(
                request,
                _("This form was damaged or out of date: nothing was saved. Check the ticket and try again."),
            )
        else:
            flash.error(request, _("Those changes were not valid."))
        return redirect("agent:ticket", reference=ticket.reference)
    data = form.cleaned_data
    version = data["version"]
    try:
        # One transaction: the first action locks the row and checks the version the form
        # was rendered from; each next one checks the version the previous left.
        with transaction.atomic():
            ticket = actions.change_status(ticket, data["status"], actor=request.user, version=version)
            version = ticket.version if version is not None else None
            ticket = actions.change_priority(ticket, data["priority"], actor=request.user, version=version)
            version = ticket.version if version is not None else None
            ticket = actions.assign(ticket, data["assignee"], actor=request.user, version=version)
            version = ticket.version if version is not None else None
            ticket = actions.set_team(ticket, data["team"], actor=request.user, version=version)
    except StaleTicket as exc:
        # Nothing applied: the page again, as the ticket is now, saying who changed what.
        return _ticket_page(request, _ticket(request, reference), stale=exc, status=409)
    except TicketError as exc:
        flash.error(request, exc.message)
    # A ticket moved to a restricted team the agent is not in leaves their sight.
    if not access.agent_tickets(request.user).filter(pk=ticket.pk).exists():
        return redirect("agent:inbox")
    return redirect("agent:ticket", reference=ticket.reference)


@agent_required
@require_POST
def take(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = TakeForm(request.POST)
    if not form.is_valid():
        flash.error(
            request,
            _("This form was damaged or out of date: nothing was saved. Check the ticket and try again."),
        )
        return redirect("agent:ticket", reference=ticket.reference)
    try:
        actions.assign(ticket, request.user, actor=request.user, version=form.cleaned_data["version"])
    except StaleTicket as exc:
        return _ticket_page(request, _ticket(request, reference), stale=exc, status=409)
    return redirect("agent:ticket", reference=ticket.reference)


@agent_required
@require_POST
def merge(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = _ticket(request, reference)
    form = MergeForm(request.POST)
    if form.is_valid():
        target = (
            access.agent_tickets(request.user)
            .filter(reference=form.cleaned_data["target"].strip().upper())
            .first()
        )
        if target is None:
            flash.error(request, _("No ticket with that reference."))
            return redirect("agent:ticket", reference=ticket.reference)
        try:
            target = actions.merge(ticket, target, actor=request.user)
        except TicketError as exc:
            flash.error(request, exc.message)
            return redirect("agent:ticket", reference=ticket.reference)
        flash.success(request, _("Merged into %(ref)s.") % {"ref": target.reference})
        return redirect("agent:ticket", reference=target.reference)
    return redirect("agent:ticket", reference=ticket.reference)


@agent_required
def phone(request: HttpRequest) -> HttpResponse:
    form = PhoneTicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = actions.create_ticket(
                NewTicket(
                    subject=data["subject"],
                    body=data["body"],
                    channel=Channel.PHONE,
                    email=data["email"] or None,
                    name=data["name"],
                    language=getattr(request, "LANGUAGE_CODE", "en"),
                    category=data["category"].slug if data["category"] else None,
                    priority=data["priority"] or None,
                    identity=(Channel.PHONE, data["phone"]) if data["phone"] and not data["email"] else None,
                    actor=request.user,
                )
            )
        except TicketError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("agent:ticket", reference=ticket.reference)
    return render(request, "desk/phone.html", {"form": form})
