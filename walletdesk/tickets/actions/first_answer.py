"""The first answer on a ticket: offer an article's passage, and the customer's two presses.

All three are history events on the ticket (no table of their own): `first_answer_offered`
(with the public message that quotes the passage), `first_answer_solved` ("this solved it":
the ticket is solved, and reports count it as a deflection) and `first_answer_declined`
("talk to a person": the ticket stays with the desk, and the bot says nothing more on it).

When the desk says nothing (`offer` returns None), whatever kb.answer would say:

* the ticket is on the Security desk, or the customer shared a secret on it (a person must
  act; kb.answer also refuses such text and the articles on stolen accounts or funds);
* the ticket is solved or closed, an agent has replied, the customer asked for a person, an
  offer is still waiting for a press, or `MAX_OFFERS` were made (a chat asks again on each
  message until one is offered; a bot repeating itself is worse than silence);
* the same article was offered before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk.kb.answer import FirstAnswer, first_answer
from walletdesk.tickets import live
from walletdesk.tickets.actions._helpers import _event, _lock_ticket, _next_seq, _set_status
from walletdesk.tickets.actions.errors import AlreadyAnswered, TicketError
from walletdesk.tickets.models import AuthorRole, Channel, Message, Status, Ticket, TicketEvent, Visibility

OFFERED = "first_answer_offered"
SOLVED = "first_answer_solved"
DECLINED = "first_answer_declined"
KINDS = (OFFERED, SOLVED, DECLINED)
MAX_OFFERS = 2
SECURITY_TEAM = "security"
CHOICES = ("solved", "person")


@dataclass(frozen=True, slots=True)
class Offer:
    """One offered answer as the customer's pages, the API and the chat show it."""

    message_id: int
    slug: str
    title: str
    url: str
    passage: str
    state: str  # "pending", "solved" or "declined"


def offers(ticket_id: int) -> list[Offer]:
    """The ticket's offers, oldest first, each with what the customer did about it."""
    events = list(
        TicketEvent.objects.filter(ticket_id=ticket_id, kind__in=KINDS).order_by("created_at", "pk")
    )
    answered = {e.data.get("message_id"): e.kind for e in events if e.kind != OFFERED}
    out = []
    for e in events:
        if e.kind != OFFERED:
            continue
        state = {SOLVED: "solved", DECLINED: "declined"}.get(
            answered.get(e.data.get("message_id"), ""), "pending"
        )
        out.append(
            Offer(
                message_id=int(e.data["message_id"]),
                slug=str(e.data.get("article", "")),
                title=str(e.data.get("title", "")),
                url=str(e.data.get("url", "")),
                passage=str(e.data.get("passage", "")),
                state=state,
            )
        )
    return out


def pending_offer(ticket_id: int) -> Offer | None:
    found = [o for o in offers(ticket_id) if o.state == "pending"]
    return found[-1] if found else None


def _quiet(ticket: Ticket, past: list[Offer]) -> bool:
    team_slug = ticket.team.slug if ticket.team_id and ticket.team is not None else ""
    return (
        team_slug == SECURITY_TEAM
        or bool((ticket.triage or {}).get("secret"))
        or ticket.status in (Status.SOLVED, Status.CLOSED)
        or ticket.first_replied_at is not None
        or len(past) >= MAX_OFFERS
        or any(o.state != "solved" and o.state != "pending" for o in past)  # asked for a person
        or any(o.state == "pending" for o in past)
    )


def _body(found: FirstAnswer) -> str:
    # What the thread (the agent's view, a transcript, the tracking page without its card)
    # keeps: the passage as written, then where it comes from. Nothing of our own making
    # beyond the citation.
    return f"{found.passage}\n\n— {found.title} {found.url}"


def offer(ticket: Ticket, text: str) -> Offer | None:
    """Offer the first answer to `text` (the customer's words) on `ticket`, if the desk may and
    kb.answer is confident; the public message and its event in one transaction."""
    if not settings.FIRST_ANSWER:
        return None
    # Cheap refusals first, without the lock; checked again under it. Read the row: a caller
    # may pass a stub (the chat passes Ticket(pk=...)), whose language is the default.
    ticket = Ticket.objects.select_related("team").get(pk=ticket.pk)
    language = "zh-hans" if (ticket.language or "").startswith("zh") else "en"
    if _quiet(ticket, offers(ticket.pk)):
        return None
    found = first_answer(text, language)
    if found is None:
        return None
    with transaction.atomic():
        locked = _lock_ticket(ticket.pk)
        locked.team = ticket.team if locked.team_id == ticket.team_id else locked.team
        past = offers(locked.pk)
        if _quiet(locked, past) or any(o.slug == found.slug for o in past):
            return None
        n = len(past) + 1
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    ticket=locked,
                    visibility=Visibility.PUBLIC,
                    author_role=AuthorRole.SYSTEM,
                    channel=locked.channel if locked.channel != Channel.EMAIL else Channel.WEB,
                    body=_body(found),
                    external_id=f"{locked.pk}:first-answer-{n}",
                    created_at=timezone.now(),
                    seq=_next_seq(locked),
                )
        except IntegrityError:
            return None  # another process offered at the same moment
        _event(
            locked,
            OFFERED,
            article=found.slug,
            article_id=found.article_id,
            title=found.title,
            url=found.url,
            passage=found.passage,
            language=found.language,
            score=round(found.score, 3),
            margin=round(found.margin, 3),
            message_id=message.pk,
        )
        live.announce(locked, "message", message=message)
    return Offer(message.pk, found.slug, found.title, found.url, found.passage, "pending")


def is_first_answer(message: Message) -> bool:
    return message.author_role == AuthorRole.SYSTEM and ":first-answer-" in (message.external_id or "")


def answer_offer(ticket: Ticket, message_id: Any, choice: str, *, user: Any = None) -> Ticket:
    """The customer's press on an offer: "solved" solves the ticket, "person" keeps it with the
    desk. The caller proved the customer owns the ticket; this checks the offer is this
    ticket's and still waiting, so a replayed or second press changes nothing (409)."""
    if choice not in CHOICES:
        raise TicketError("invalid", _("Choose “this solved it” or “talk to a person”."), field="choice")
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        raise TicketError("not_found", _("No such answer on this request."), field="offer") from None
    with transaction.atomic():
        ticket = _lock_ticket(ticket.pk)
        current = next((o for o in offers(ticket.pk) if o.message_id == message_id), None)
        if current is None:
            raise TicketError("not_found", _("No such answer on this request."), field="offer")
        if current.state != "pending":
            raise AlreadyAnswered("already_answered", _("You already answered this."), field="offer")
        if choice == "solved":
            if ticket.status in (Status.SOLVED, Status.CLOSED) or ticket.first_replied_at is not None:
                # An agent took it up meanwhile: their work is not undone by a late press.
                raise AlreadyAnswered(
                    "already_answered", _("An agent is already on this request."), field="offer"
                )
            _event(ticket, SOLVED, user, message_id=message_id, article=current.slug)
            _set_status(ticket, Status.SOLVED, user, why="first_answer")
        else:
            _event(ticket, DECLINED, user, message_id=message_id, article=current.slug)
    return ticket
