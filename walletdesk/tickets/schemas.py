"""API shapes for tickets, shared by the public API and the in-app connector."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import EmailStr, Field

from walletdesk.core.errors import ErrorOut as ErrorOut  # re-exported: routers import it with the schemas
from walletdesk.tickets import lifecycle
from walletdesk.tickets.models import FACT_FIELDS, Message, Ticket
from walletdesk.tickets.tracking import tracking_url


class FactsIn(Schema):
    account: str | None = Field(None, max_length=200)
    wallet_address: str | None = Field(None, max_length=128)
    chain: str | None = Field(None, max_length=40)
    tx_hash: str | None = Field(None, max_length=128)
    error_code: str | None = Field(None, max_length=200)
    device: str | None = Field(None, max_length=100)
    os: str | None = Field(None, max_length=60)
    app_version: str | None = Field(None, max_length=40)


class TicketCreateIn(FactsIn):
    email: EmailStr | None = None
    name: str = Field("", max_length=120)
    subject: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=20_000)
    category: str | None = Field(None, max_length=50)
    language: Literal["en", "zh", "zh-hans", "zh-Hans", "zh-CN"] | None = None


class SlaOut(Schema):
    first_reply_due: datetime | None
    next_reply_due: datetime | None
    resolution_due: datetime | None
    state: Literal["ok", "at_risk", "breached", "paused"]


def sla_of(ticket: Ticket) -> SlaOut:
    return SlaOut.model_construct(
        first_reply_due=ticket.first_reply_due if ticket.first_replied_at is None else None,
        next_reply_due=ticket.next_reply_due,
        resolution_due=ticket.resolution_due,
        state=lifecycle.clock.state(ticket, timezone.now()),
    )


class TicketCreatedOut(Schema):
    reference: str
    status: str
    priority: str
    category: str | None
    tracking_url: str
    sla: SlaOut


class MessageOut(Schema):
    id: int
    author: Literal["customer", "agent", "system"]
    internal: bool
    body: str
    channel: str
    created_at: datetime
    attachments: list[str]


class TicketOut(Schema):
    reference: str
    subject: str
    status: str
    priority: str
    channel: str
    category: str | None
    language: str
    team: str | None
    assignee: str | None
    created_at: datetime
    updated_at: datetime
    version: int = Field(
        description="Moves up with every change; send it back as If-Match (or `version`) to change "
        "the ticket only if nobody changed it since"
    )
    facts: dict[str, str]
    tags: list[str]
    flags: list[dict[str, str]]
    sla: SlaOut


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: int | None


class ReplyIn(Schema):
    body: str = Field(..., min_length=1, max_length=20_000)
    internal: bool = False
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"] | None = None
    override_risks: bool = False
    version: int | None = Field(
        None, description="Send only if the ticket is still at this version (like If-Match)"
    )


class TicketUpdateIn(FactsIn):
    status: Literal["new", "open", "pending", "on_hold", "solved", "closed"] | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    assignee: str | None = Field(None, max_length=254, description="The agent's email")
    unassign: bool = False
    team: str | None = Field(None, max_length=50)
    version: int | None = Field(
        None, description="Change only if the ticket is still at this version (like If-Match)"
    )


def facts_of(data: FactsIn) -> dict[str, str]:
    return {name: value for name in FACT_FIELDS if (value := getattr(data, name, None)) is not None}


def created_out(ticket: Ticket) -> TicketCreatedOut:
    # Built from our own just-written row, so not validated again: ninja's root validator and
    # pydantic's checks were a third of the cost of answering a new ticket (measured).
    return TicketCreatedOut.model_construct(
        reference=ticket.reference,
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category.slug if ticket.category else None,
        tracking_url=tracking_url(ticket.reference, ticket.contact_id),
        sla=sla_of(ticket),
    )


def ticket_out(ticket: Ticket) -> TicketOut:
    return TicketOut(**_ticket_fields(ticket))


def _ticket_fields(ticket: Ticket) -> dict[str, Any]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "category": ticket.category.slug if ticket.category else None,
        "language": ticket.language,
        "team": ticket.team.slug if ticket.team else None,
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "version": ticket.version,
        "facts": {name: getattr(ticket, name) for name in FACT_FIELDS if getattr(ticket, name)},
        "tags": ticket.tags,
        # The documented shape: code and English reason. The stored reason codes (for the
        # desk's own wording, tickets.wording) stay out of the API's contract.
        "flags": [
            {"code": str(f.get("code", "")), "reason": str(f.get("reason", ""))}
            for f in ticket.flags or []
            if isinstance(f, dict)
        ],
        "sla": sla_of(ticket),
    }


def detail_out(ticket: Ticket, messages: list[Message]) -> TicketDetailOut:
    return TicketDetailOut(
        **_ticket_fields(ticket),
        messages=[
            MessageOut(
                id=m.pk,
                author=m.author_role,  # type: ignore[arg-type]
                internal=not m.is_public,
                body=m.body,
                channel=m.channel,
                created_at=m.created_at,
                attachments=[a.filename for a in m.attachments.all()],
            )
            for m in messages
        ],
    )
