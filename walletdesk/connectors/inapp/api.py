"""In-app contact API for the wallet app's backend.

The app authenticates with its key (`X-App-Key`) and names its user with `X-App-User` (the id the
wallet app gives). Every message carries the app's own `message_id`, so a retried request is
recognised instead of filing the same ticket twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import EmailStr, Field

from walletdesk.connectors.inapp.models import AppKey
from walletdesk.tickets import access, actions, screening
from walletdesk.tickets.actions import DuplicateMessage, InvalidInput, NewTicket, TicketError
from walletdesk.tickets.models import Channel, Proof, Ticket
from walletdesk.tickets.schemas import (
    ErrorOut,
    FactsIn,
    TicketCreatedOut,
    TicketDetailOut,
    TicketPage,
    created_out,
    detail_out,
    facts_of,
    ticket_out,
)

router = Router(tags=["in-app"])
log = logging.getLogger(__name__)


class AppKeyAuth(APIKeyHeader):
    param_name = "X-App-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> AppKey | None:
        if not key:
            return None
        return AppKey.objects.filter(key_hash=AppKey.hash(key), active=True).first()


def _user_id(request: HttpRequest) -> str:
    user_id = (request.headers.get("X-App-User") or "").strip()
    if not user_id or len(user_id) > 128:
        raise TicketError(
            "app_user_required", "Send the app's user id in the X-App-User header.", field="X-App-User"
        )
    return _no_secret(user_id, "X-App-User")


def app_user_of(request: HttpRequest) -> tuple[str, bool, str] | None:
    """The app user a request from the wallet app speaks for (chat.api asks, through the
    project's api.py): (identity, whether the app vouches for emails, the app's name); None
    without an app key; refused (401) with a wrong one."""
    key = request.headers.get("X-App-Key")
    if not key:
        return None
    app = AppKeyAuth().authenticate(request, key)
    if app is None:
        raise TicketError("not_authenticated", "Missing or invalid credentials.")
    return _external(app, _user_id(request)), app.vouches_for_email, app.name


def _no_secret(value: str, field: str) -> str:
    """Ids are stored as they are (the contact's identity, the idempotency key), so one that
    holds a recovery phrase or key is refused, never echoed: a placeholder would make two
    different ids one."""
    if screening.screen_value(value).secret_kinds:
        raise InvalidInput(
            "secret_in_field",
            "This id looks like a recovery phrase or private key; it was not stored.",
            field=field,
        )
    return value


def _external(app: AppKey, value: str) -> str:
    # Ids are namespaced by app so two apps' user 42 are two people.
    return access.app_user_identity(app, value)


def _message_key(app: AppKey, user_id: str, message_id: str) -> str:
    """A message's idempotency key: per app *and* per app user. Keyed per app only, one user
    who sent another's (predictable) message ids first got that user's real messages refused
    as replays. The user id is hashed so the key fits its column."""
    user = hashlib.sha256(user_id.encode()).hexdigest()[:16]
    return f"{app.pk}:{user}:{_no_secret(message_id, 'message_id')}"


class InappTicketIn(FactsIn):
    message_id: str = Field(..., min_length=1, max_length=128)
    subject: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=20_000)
    category: str | None = Field(None, max_length=50)
    locale: str = Field("en", max_length=20)
    email: EmailStr | None = None
    name: str = Field("", max_length=120)


class FirstAnswerOut(Schema):
    """The first answer: our article's passage, quoted as written, and the customer's two
    presses (POST `action_url` with {"offer", "choice"}: "solved" or "person")."""

    offer: int
    passage: str
    title: str
    url: str
    action_url: str
    choices: list[str]


class InappTicketCreatedOut(TicketCreatedOut):
    # Added by #22; every earlier field is unchanged. null when no article answers with
    # confidence: the ticket then goes to an agent as before.
    first_answer: FirstAnswerOut | None = None


class FirstAnswerIn(Schema):
    offer: int
    choice: str = Field(..., max_length=10)


class InappReplyIn(Schema):
    message_id: str = Field(..., min_length=1, max_length=128)
    body: str = Field(..., min_length=1, max_length=20_000)


def _own_ticket(request: HttpRequest, reference: str) -> Ticket:
    app: AppKey = request.auth  # type: ignore[attr-defined]
    ticket = (
        access.app_user_tickets(app, _user_id(request))
        .select_related("category", "team", "assignee", "contact")
        .filter(reference=reference.upper())
        .first()
    )
    if ticket is None:
        raise TicketError("not_found", "No such ticket.")
    return ticket


@router.post(
    "/tickets",
    response={201: InappTicketCreatedOut, 400: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    auth=AppKeyAuth(),
)
def create(request: HttpRequest, payload: InappTicketIn) -> Status[InappTicketCreatedOut]:
    app: AppKey = request.auth  # type: ignore[attr-defined]
    user_id = _user_id(request)
    user = _external(app, user_id)
    # The app user is who the app's user id says. Their email is proven only if the app's
    # backend vouches for its users' emails; otherwise it is a claim, like a guest's.
    vouched = bool(payload.email) and app.vouches_for_email
    with _replay_of(app, user_id):
        ticket = actions.create_ticket(
            NewTicket(
                subject=payload.subject,
                body=payload.body,
                channel=Channel.INAPP,
                email=str(payload.email) if payload.email else None,
                name=payload.name,
                language=payload.locale,
                category=payload.category,
                facts=facts_of(payload),
                identity=(Channel.INAPP, user),
                email_proof=Proof.APP if vouched else "",
                proven_by=app.name if vouched else "",
                external_id=_message_key(app, user_id, payload.message_id),
            )
        )
    created = created_out(ticket)
    return Status(
        201,
        InappTicketCreatedOut.model_construct(
            **dict(created), first_answer=_first_answer(ticket, f"{payload.subject}\n{payload.body}")
        ),
    )


def _first_answer(ticket: Ticket, text: str) -> FirstAnswerOut | None:
    """Offer the first answer on a new ticket; the ticket is committed already, so a failure
    here only means the customer waits for an agent, as before #22."""
    try:
        found = actions.offer_first_answer(ticket, text)
    except Exception:
        log.exception("first answer failed on %s", ticket.reference)
        return None
    if found is None:
        return None
    return FirstAnswerOut(
        offer=found.message_id,
        passage=found.passage,
        title=found.title,
        url=found.url,
        action_url=f"/api/v1/inapp/tickets/{ticket.reference}/first-answer",
        choices=["solved", "person"],
    )


@router.post(
    "/tickets/{reference}/first-answer",
    response={200: TicketDetailOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=AppKeyAuth(),
)
def first_answer(request: HttpRequest, reference: str, payload: FirstAnswerIn) -> Any:
    """The app user's press on the first answer: only the ticket's own app user may (another
    user of the app, or another app, gets 404); a second or replayed press is 409."""
    ticket = _own_ticket(request, reference)
    ticket = actions.answer_offer(ticket, payload.offer, payload.choice)
    ticket = _own_ticket(request, reference)
    messages = access.visible_messages(ticket, agent=False).prefetch_related("attachments")
    return detail_out(ticket, list(messages))


@contextmanager
def _replay_of(app: AppKey, user_id: str) -> Iterator[None]:
    """A replayed message_id answers 409; it names the ticket only to the app user who sent
    the first one. Another user of the app learns nothing, not even that it exists."""
    try:
        yield
    except DuplicateMessage as exc:
        reference = exc.extra.get("reference")
        mine = (
            reference is not None
            and access.app_user_tickets(app, user_id).filter(reference=reference).exists()
        )
        if mine:
            raise
        raise DuplicateMessage(exc.code, exc.message) from None


@router.get("/tickets", response={200: TicketPage, 400: ErrorOut}, auth=AppKeyAuth())
def list_mine(request: HttpRequest, cursor: int | None = None, limit: int = 25) -> TicketPage:
    from walletdesk.tickets import inbox

    app: AppKey = request.auth  # type: ignore[attr-defined]
    tickets = access.app_user_tickets(app, _user_id(request))
    page, next_cursor = inbox.page(tickets, cursor=cursor, limit=limit)
    return TicketPage(items=[ticket_out(t) for t in page], next_cursor=next_cursor)


@router.get(
    "/tickets/{reference}", response={200: TicketDetailOut, 400: ErrorOut, 404: ErrorOut}, auth=AppKeyAuth()
)
def read(request: HttpRequest, reference: str) -> TicketDetailOut:
    ticket = _own_ticket(request, reference)
    messages = access.visible_messages(ticket, agent=False).prefetch_related("attachments")
    return detail_out(ticket, list(messages))


@router.post(
    "/tickets/{reference}/messages",
    response={201: TicketDetailOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=AppKeyAuth(),
)
def reply(request: HttpRequest, reference: str, payload: InappReplyIn) -> Any:
    app: AppKey = request.auth  # type: ignore[attr-defined]
    ticket = _own_ticket(request, reference)
    user_id = _user_id(request)
    with _replay_of(app, user_id):
        actions.add_customer_message(
            ticket,
            payload.body,
            channel=Channel.INAPP,
            external_id=_message_key(app, user_id, payload.message_id),
        )
    return Status(201, read(request, reference))
