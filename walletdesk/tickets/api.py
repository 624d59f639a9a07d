"""Tickets API: create, list, read, reply, update.

Versions: every ticket carries `version` (in the body and as the `ETag` of GET, PATCH and
POST messages). PATCH and POST messages take it back as `If-Match: "<version>"` (a `W/` prefix
is accepted; `*` means any version) or as a `version` field: if the ticket changed since, the
answer is 409 with code `stale`, the current `version` and the `changes` since (who, what,
when), and nothing is written. Without either the change applies as before, so existing
clients keep working: the check is the client's choice. A malformed If-Match, or one that
disagrees with `version`, is refused (400 `bad_version`) rather than ignored.

Who is asking decides what they get:
- an agent, by bearer token (`Authorization: Bearer wdk_…`) or their session;
- a customer, by their session;
- a guest, by the tracking token from their link (`X-Tracking-Token`), for one ticket;
- anyone may create a ticket with an email address.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Query, Router, Schema, Status
from ninja.utils import check_csrf

from walletdesk.accounts.actions import user_for_api_token
from walletdesk.accounts.models import User
from walletdesk.core import deferred, ratelimit
from walletdesk.tickets import access, actions, guestlimits, inbox, intake
from walletdesk.tickets.actions import NewTicket, TicketError
from walletdesk.tickets.models import Channel, Team, Ticket
from walletdesk.tickets.schemas import (
    ErrorOut,
    ReplyIn,
    TicketCreatedOut,
    TicketCreateIn,
    TicketDetailOut,
    TicketOut,
    TicketPage,
    TicketUpdateIn,
    created_out,
    detail_out,
    facts_of,
    ticket_out,
)
from walletdesk.tickets.tracking import BadTrackingToken

router = Router(tags=["tickets"])

# What the OpenAPI document says about who may call these endpoints. They take no ninja `auth`
# (each one decides from whoever is asking, see `_caller`), so the schemes are declared here
# and `walletdesk/api.py` publishes them: generated clients and the docs page's "Authorize"
# then know about the agent's token. Session cookies are for the browser pages (with CSRF),
# not for API clients, so they are left out.
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "agentToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An agent's API token (`wdk_…`), issued once by "
        "`walletdesk manage issue_api_token EMAIL --name NAME`. Sees the tickets the agent's "
        "teams may see.",
    },
    "trackingToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Tracking-Token",
        "description": "A guest's tracking token, from the link mailed with their ticket: one ticket only.",
    },
}
# OpenAPI: alternatives are ORed; `{}` means the call also works without a credential.
_AGENT: dict[str, Any] = {"security": [{"agentToken": []}]}
_AGENT_OR_GUEST: dict[str, Any] = {"security": [{"agentToken": []}, {"trackingToken": []}]}
_ANYONE: dict[str, Any] = {"security": [{"agentToken": []}, {}]}


def _optional_agent(request: HttpRequest) -> Any:
    """The agent behind a bearer token, if one was sent; a bad token is refused, not ignored."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_api_token(header[7:].strip())
        if user is None:
            raise TicketError("bad_token", "The API token is not valid.")
        request.user = user
        return user
    return None


def _caller(request: HttpRequest) -> Any:
    """The agent behind a bearer token, else the session user, else anonymous.

    A session is a browser's ambient credential, so a state change made with it must carry the
    CSRF token; a bearer token cannot be sent by another site and needs none.
    """
    agent = _optional_agent(request)
    if agent is not None:
        return agent
    user = request.user
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if getattr(user, "is_authenticated", False) and unsafe and check_csrf(request) is not None:
        raise actions.NotAllowed("csrf_failed", "CSRF check failed: send the X-CSRFToken header.")
    return user


class Viewer:
    """Whoever is asking about one ticket, and what they may do with it."""

    def __init__(self, request: HttpRequest, ticket: Ticket) -> None:
        self.user: Any = _caller(request)
        self.ticket = ticket
        try:
            seen = access.sight(self.user, ticket, request.headers.get("X-Tracking-Token"))
        except BadTrackingToken as exc:
            raise TicketError(
                "tracking_link_expired" if exc.expired else "bad_tracking_token",
                "This tracking link has expired; ask for a new one."
                if exc.expired
                else "This tracking link is not valid.",
            ) from None
        self.agent, self.owner, self.guest = seen.agent, seen.owner, seen.guest
        self.allowed = seen.allowed


_ETAG = re.compile(r'(?:W/)?"?([0-9]{1,18})"?')


def _version(request: HttpRequest, field: int | None) -> int | None:
    """The version the caller's change was made from: If-Match or the body's `version`."""
    header = request.headers.get("If-Match")
    wanted = None
    if header is not None and header.strip() != "*":
        match = _ETAG.fullmatch(header.strip())
        if match is None:
            raise TicketError(
                "bad_version",
                'If-Match must be one ETag of this ticket, such as "7" (its version).',
                field="If-Match",
            )
        wanted = int(match.group(1))
    if wanted is not None and field is not None and wanted != field:
        raise TicketError("bad_version", "If-Match and version disagree.", field="version")
    return wanted if wanted is not None else field


def _tag(response: HttpResponse, ticket: Ticket) -> None:
    response["ETag"] = f'"{ticket.version}"'


def _ticket_for(request: HttpRequest, reference: str) -> tuple[Ticket, Viewer]:
    ticket = (
        Ticket.objects.select_related("category", "team", "assignee", "contact")
        .filter(reference=reference.upper())
        .first()
    )
    if ticket is None:
        raise TicketError("not_found", "No such ticket.")
    viewer = Viewer(request, ticket)
    if not viewer.allowed:
        # The same answer as a missing ticket: a reference alone reveals nothing.
        raise TicketError("not_found", "No such ticket.")
    return ticket, viewer


@router.post(
    "/tickets",
    response={201: TicketCreatedOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    auth=None,
    openapi_extra=_ANYONE,
)
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> Any:
    caller = _caller(request)
    user = caller if getattr(caller, "is_authenticated", False) and not access.is_agent(caller) else None
    new = NewTicket(
        subject=payload.subject,
        body=payload.body,
        channel=Channel.WEB,
        email=str(payload.email) if payload.email else None,
        name=payload.name,
        language=str(payload.language or getattr(request, "LANGUAGE_CODE", "en")),
        category=payload.category,
        facts=facts_of(payload),
        user=user,
    )
    # Guests only: an agent's token, a customer's session and the in-app API are not limited.
    charge = (
        None
        if getattr(caller, "is_authenticated", False)
        else guestlimits.ticket_charge(request, new.email, payload.category)
    )
    if deferred.can_defer(request):
        future = intake.submit(new, then=lambda outcome: _created_response(request, outcome), charge=charge)
        if future is not None:
            # Answered once the writer thread has committed this ticket with the others
            # waiting (tickets.intake); this thread goes on to the next request.
            return deferred.DeferredResponse(future)
    return Status(201, created_out(intake.create_ticket(new, charge)))


_api: NinjaAPI | None = None


def answer_with(api: NinjaAPI) -> None:
    """The project's NinjaAPI hands itself over when it mounts this router.

    A deferred answer is rendered outside the view, so it needs that object (its renderer and
    exception handlers); importing it from here would close a circle through `walletdesk.api`.
    """
    global _api
    _api = api


def _created_response(request: HttpRequest, outcome: Ticket | BaseException) -> HttpResponse:
    """The same answer the synchronous path gives, rendered by the one NinjaAPI."""
    api = _api
    assert api is not None, "walletdesk.api mounts this router and calls answer_with()"
    if isinstance(outcome, BaseException):
        return api.on_exception(request, outcome)  # type: ignore[arg-type]
    return api.create_response(request, created_out(outcome).model_dump(by_alias=True), status=201)


class ListFilters(Schema):
    view: inbox.ViewName | None = None
    status: str | None = None
    priority: str | None = None
    category: str | None = None
    channel: str | None = None
    team: str | None = None
    q: str | None = None
    cursor: int | None = None
    limit: int = 25


@router.get(
    "/tickets", response={200: TicketPage, 401: ErrorOut, 422: ErrorOut}, auth=None, openapi_extra=_AGENT
)
def list_tickets(request: HttpRequest, filters: Query[ListFilters]) -> TicketPage:
    user: Any = _caller(request)
    if access.is_agent(user):
        tickets = inbox.filtered(access.agent_tickets(user), user, filters.dict())
    elif getattr(user, "is_authenticated", False):
        tickets = access.customer_tickets(user)
    else:
        raise TicketError("not_authenticated", "Sign in, or use an agent API token.")
    page, next_cursor = inbox.page(tickets, cursor=filters.cursor, limit=filters.limit)
    return TicketPage(items=[ticket_out(t) for t in page], next_cursor=next_cursor)


@router.get(
    "/tickets/{reference}",
    response={200: TicketDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
    openapi_extra=_AGENT_OR_GUEST,
)
def read_ticket(request: HttpRequest, reference: str, response: HttpResponse) -> TicketDetailOut:
    ticket, viewer = _ticket_for(request, reference)
    _tag(response, ticket)
    messages = access.visible_messages(ticket, agent=viewer.agent).prefetch_related("attachments")
    return detail_out(ticket, list(messages))


@router.post(
    "/tickets/{reference}/messages",
    response={
        201: TicketDetailOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        429: ErrorOut,
    },
    auth=None,
    openapi_extra=_AGENT_OR_GUEST,
)
def reply(
    request: HttpRequest, reference: str, payload: ReplyIn, response: HttpResponse
) -> Status[TicketDetailOut]:
    ticket, viewer = _ticket_for(request, reference)
    version = _version(request, payload.version)
    if viewer.agent:
        actions.add_agent_message(
            ticket,
            payload.body,
            agent=viewer.user,
            internal=payload.internal,
            new_status=payload.status,
            override_risks=payload.override_risks,
            version=version,
            strict=True,
        )
    else:
        if payload.internal or payload.status:
            raise actions.NotAllowed("not_allowed", "Only agents can write internal notes or change status.")
        if viewer.guest and not viewer.owner:
            ratelimit.charge(
                ratelimit.guest_charge(
                    request, "guest-reply", settings.RATE_LIMIT_GUEST_REPLY, ticket.contact.email
                )
            )
        actions.add_customer_message(
            ticket, payload.body, channel=ticket.channel, user=viewer.user, version=version
        )
    return Status(201, read_ticket(request, reference, response))


@router.patch(
    "/tickets/{reference}",
    response={200: TicketOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=None,
    openapi_extra=_AGENT_OR_GUEST,
)
def update_ticket(
    request: HttpRequest, reference: str, payload: TicketUpdateIn, response: HttpResponse
) -> Any:
    ticket, viewer = _ticket_for(request, reference)
    version = _version(request, payload.version)
    if not viewer.agent:
        given = set(payload.model_dump(exclude_unset=True)) - {"version"}
        if payload.status == "closed" and given == {"status"}:
            ticket = actions.close_by_customer(ticket, user=viewer.user, version=version)
            _tag(response, ticket)
            return ticket_out(ticket)
        raise actions.NotAllowed("not_allowed", "Only agents can change a ticket; you can close it.")
    agent = viewer.user
    # One transaction: the first action locks the row and checks the version; each next one
    # checks the version the previous returned, and a refusal leaves nothing half applied.
    with transaction.atomic():
        if payload.status:
            ticket = actions.change_status(ticket, payload.status, actor=agent, version=version)
            version = ticket.version if version is not None else None
        if payload.priority:
            ticket = actions.change_priority(ticket, payload.priority, actor=agent, version=version)
            version = ticket.version if version is not None else None
        if payload.unassign:
            ticket = actions.assign(ticket, None, actor=agent, version=version)
            version = ticket.version if version is not None else None
        elif payload.assignee:
            assignee = User.objects.filter(email__iexact=str(payload.assignee)).first()
            if assignee is None:
                raise TicketError("unknown_agent", "No agent with that email.", field="assignee")
            ticket = actions.assign(ticket, assignee, actor=agent, version=version)
            version = ticket.version if version is not None else None
        if payload.team is not None:
            team = get_object_or_404(Team, slug=payload.team) if payload.team else None
            ticket = actions.set_team(ticket, team, actor=agent, version=version)
            version = ticket.version if version is not None else None
        facts = facts_of(payload)
        if facts:
            ticket = actions.update_facts(ticket, facts, actor=agent, version=version)
        elif version is not None:
            # Nothing to change (an empty PATCH) still answers whether the version is current.
            ticket = actions.check_version(ticket, version)
    ticket = Ticket.objects.select_related("category", "team", "assignee").get(pk=ticket.pk)
    _tag(response, ticket)
    return ticket_out(ticket)
