"""Every change to a live chat, one function each (the ticket's own changes go through
tickets.actions: a chat is a ticket, and its messages are the ticket's thread).

Routing: a waiting chat goes to an online agent of the ticket's team (any agent, for a ticket
with no team) who chats in its language and has a free slot (`ChatAgent.capacity`), the least
busy first. With agents online but all full, the chat waits in line (its queue position is
the number of older waiting chats of its team, plus one); with none online, the customer is
told when to expect an answer by email (the ticket's first-reply promise). A line moves when
an agent comes online, ends a chat or is handed one less.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from walletdesk.chat import frames
from walletdesk.chat.lines import notice, online
from walletdesk.chat.models import ChatAgent, Conversation, Presence, State
from walletdesk.core import live
from walletdesk.core.locks import lock_rows
from walletdesk.tickets import access, actions
from walletdesk.tickets.actions import NewTicket, TicketError
from walletdesk.tickets.files import CheckedFile
from walletdesk.tickets.models import AuthorRole, Channel, Contact, Message, Status, Ticket, Visibility

logger = logging.getLogger(__name__)
CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
LANGUAGES = ("en", "zh-hans", "zh-hant")


def group(ticket_id: int) -> str:
    """The Channels group of a conversation's sockets (the customer's and the agents')."""
    return f"chat.{ticket_id}"


def agent_group(user_id: int) -> str:
    return f"chat.agent.{user_id}"


AGENTS_GROUP = "chat.agents"  # every agent socket: chats entering or leaving the line


def frame_event(ticket: Ticket, frame: dict[str, Any]) -> dict[str, Any]:
    """A frame as a Channels event: handled by the consumers' `chat_frame`."""
    return {"type": "chat.frame", "ticket_id": ticket.pk, "reference": ticket.reference, "frame": frame}


# --- starting --------------------------------------------------------------------------------


def start_conversation(
    *,
    name: str = "",
    email: str | None = None,
    language: str = "en",
    subject: str = "",
    user: Any = None,
    identity: tuple[str, str] | None = None,
    email_proof: str = "",
    proven_by: str = "",
) -> Conversation:
    """Open a chat: its ticket (opened by the desk's notice, so the transcript starts with it)
    and its conversation row, then route it."""
    if language not in LANGUAGES:
        raise actions.InvalidInput("invalid", _("Unknown language."), field="language")
    with translation.override(language):
        opening = _("Live chat started. %(notice)s") % {"notice": notice()}
        default_subject = _("Live chat")
    ticket = actions.create_ticket(
        NewTicket(
            subject=subject or default_subject,
            body=opening,
            channel=Channel.CHAT,
            email=email or None,
            name=name,
            language=language,
            user=user,
            identity=identity,
            email_proof=email_proof,
            proven_by=proven_by,
            opened_by_system=True,
        )
    )
    with transaction.atomic():
        conversation = Conversation.objects.create(ticket=ticket, language=language, queued_at=timezone.now())
        if _route(conversation) is None:
            _list(conversation)
    return Conversation.objects.select_related("ticket", "agent").get(pk=conversation.pk)


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    frame: dict[str, Any]
    duplicate: bool  # the client_id was stored already: answer the sender only


def _external_id(ticket_id: int, client_id: str) -> str:
    # Scoped to the conversation: one customer's ids can never collide with (or block) another's.
    return f"{ticket_id}:{client_id}"


def _check_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise actions.InvalidInput("bad_frame", _("Each message needs a client_id."), field="client_id")
    return client_id


def post_customer_message(
    ticket_id: int, client_id: str, body: str, *, attachments: tuple[CheckedFile, ...] = ()
) -> Posted:
    """The customer's message, screened by the shield before anything is stored or sent on."""
    client_id = _check_client_id(client_id)
    external_id = _external_id(ticket_id, client_id)
    # Only what this needs of the conversation: the ticket is read again under its row lock.
    state, agent_id, contact_id, contact_name = (
        Conversation.objects.filter(pk=ticket_id)
        .values_list("state", "agent_id", "ticket__contact_id", "ticket__contact__name")
        .get()
    )
    if state == State.ENDED:
        # A resend of what was stored before the end still gets its ack.
        stored = Message.objects.filter(channel=Channel.CHAT, external_id=external_id).first()
        if stored is not None:
            return Posted(frames.message(stored, client_id=client_id), duplicate=True)
        raise TicketError("ticket_closed", _("This chat has ended. Please start a new one."))
    ticket = Ticket(pk=ticket_id, contact=Contact(pk=contact_id, name=contact_name))
    screened = actions.screen_message(body) if body.strip() or not attachments else None
    try:
        message = actions.add_customer_message(
            ticket,
            body if screened is not None else _("(attachment)"),
            channel=Channel.CHAT,
            external_id=external_id,
            screened=screened,
            attachments=attachments,
            # The unique (channel, external_id) index refuses a repeat: no look-up first.
            checked_new=True,
        )
    except (actions.DuplicateMessage, IntegrityError):
        # The same client_id twice at once (a resend racing its first try): one was stored.
        stored = Message.objects.get(channel=Channel.CHAT, external_id=external_id)
        return Posted(frames.message(stored, client_id=client_id), duplicate=True)
    removed = list(screened.screened.secret_kinds) if screened is not None else []
    if removed and agent_id is not None:
        _recheck_agent(ticket_id)
    if agent_id is None and not removed and message.body.strip():
        _offer_first_answer(ticket_id, message.body)
    frame = getattr(message, "_chat_frame", None) or frames.message(message)
    return Posted({**frame, "client_id": client_id, "removed": removed}, duplicate=False)


def _offer_first_answer(ticket_id: int, text: str) -> None:
    """The bot's line (tickets.actions.offer_first_answer decides whether there is one): it
    reaches the socket as a numbered message, like any other. Only while no agent has the
    chat; a failure costs the customer nothing but the offer."""
    try:
        actions.offer_first_answer(Ticket(pk=ticket_id), text)
    except Exception:
        logger.exception("first answer failed on chat %s", ticket_id)


def answer_first(ticket_id: int, seq: Any, choice: str) -> dict[str, Any]:
    """The customer's press on the bot's line, from their own socket (its credential is the
    proof of ownership): "solved" solves the ticket and ends the chat; "person" leaves it in
    line for an agent and the bot quiet. Returns the `first_answer` frame all sockets get."""
    if not isinstance(seq, int):
        raise actions.InvalidInput("bad_frame", _("first_answer needs a seq."), field="seq")
    message = Message.objects.filter(ticket_id=ticket_id, seq=seq).first()
    if message is None or not actions.is_first_answer(message):
        raise TicketError("not_found", _("No such answer on this request."))
    ticket = Ticket.objects.get(pk=ticket_id)
    actions.answer_offer(ticket, message.pk, choice)
    frame = {"type": "first_answer", "seq": seq, "state": "solved" if choice == "solved" else "declined"}
    live.publish(group(ticket_id), frame_event(ticket, frame))
    if choice == "solved":
        end_conversation(ticket_id, by="customer")
    return frame


def _recheck_agent(ticket_id: int) -> None:
    """A shared secret moves the ticket to the Security desk, a restricted team: the chat's
    agent may no longer see it. Then it goes back in line for that team (the sockets of agents
    who lost sight of it leave its group), and the customer is told where they stand."""
    with transaction.atomic():
        conversation = lock_rows(Conversation, [ticket_id])[ticket_id]
        ticket = Ticket.objects.select_related("team", "contact").get(pk=ticket_id)
        conversation.ticket = ticket
        agent = conversation.agent
        if agent is None or conversation.state != State.ACTIVE or access.agent_can_see(agent, ticket):
            return
        conversation.agent = None
        conversation.state = State.WAITING
        conversation.save(update_fields=["agent", "state"])
        live.publish(agent_group(agent.pk), frame_event(ticket, frames.chat_summary(conversation)))
        live.publish(group(ticket_id), {"type": "chat.recheck", "ticket_id": ticket_id})
        if _route(conversation) is None:
            _list(conversation)
            live.publish(group(ticket_id), frame_event(ticket, frames.status(conversation)))


def post_agent_message(ticket_id: int, client_id: str, body: str, *, agent: Any) -> Posted:
    """An agent's reply from the agent socket: the desk's reply, with its checks (no secret,
    no unofficial link or fee request)."""
    client_id = _check_client_id(client_id)
    external_id = _external_id(ticket_id, f"agent-{agent.pk}-{client_id}")
    stored = Message.objects.filter(channel=Channel.CHAT, external_id=external_id).first()
    if stored is not None:
        return Posted(frames.message(stored, client_id=client_id), duplicate=True)
    conversation = Conversation.objects.select_related("ticket").get(pk=ticket_id)
    refuse_if_ended(conversation)
    ticket = conversation.ticket
    try:
        message = actions.add_agent_message(ticket, body, agent=agent, external_id=external_id)
    except IntegrityError:
        stored = Message.objects.get(channel=Channel.CHAT, external_id=external_id)
        return Posted(frames.message(stored, client_id=client_id), duplicate=True)
    return Posted(frames.message(message, client_id=client_id), duplicate=False)


def after(ticket_id: int, seq: int, *, limit: int = 500) -> list[dict[str, Any]]:
    """The conversation's messages numbered above `seq`, oldest first, as frames."""
    rows = (
        Message.objects.filter(ticket_id=ticket_id, seq__gt=seq, visibility=Visibility.PUBLIC)
        .select_related("author_user", "author_contact")
        .prefetch_related("attachments")
        .order_by("seq")[:limit]
    )
    return [frames.message(m) for m in rows]


def mark_read(ticket_id: int, seq: int, *, by: str) -> int:
    """Read receipts only move forward; answers the number now stored."""
    field = "customer_read_seq" if by == AuthorRole.CUSTOMER else "agent_read_seq"
    Conversation.objects.filter(pk=ticket_id, **{f"{field}__lt": seq}).update(**{field: seq})
    return int(Conversation.objects.filter(pk=ticket_id).values_list(field, flat=True).first() or 0)


# --- routing ---------------------------------------------------------------------------------


def _candidates(conversation: Conversation) -> list[ChatAgent]:
    ticket = conversation.ticket
    agents = ChatAgent.objects.filter(online(), user__is_active=True, user__is_staff=True)
    if ticket.team_id is not None:
        agents = agents.filter(user__teams=ticket.team_id)
    agents = agents.select_related("user")
    language = conversation.language.split("-")[0]
    return [a for a in agents if not a.languages or language in a.languages]


def _route(conversation: Conversation) -> ChatAgent | None:
    """Give a waiting chat to the least busy online agent with a free slot; None: it waits."""
    if conversation.state != State.WAITING:
        return None
    candidates = _candidates(conversation)
    if not candidates:
        return None
    # The candidates' rows, locked in primary-key order, so two chats routed at once cannot
    # both take an agent's last slot.
    locked = lock_rows(ChatAgent, [c.pk for c in candidates])
    load = dict(
        Conversation.objects.filter(agent__in=list(locked), state=State.ACTIVE)
        .values_list("agent")
        .annotate(n=Count("pk"))
        .values_list("agent", "n")
    )
    free = [a for a in locked.values() if load.get(a.pk, 0) < a.capacity]
    if not free:
        return None
    chosen = min(free, key=lambda a: (load.get(a.pk, 0) / max(1, a.capacity), a.pk))
    _give(conversation, chosen.user, actor=None)
    return chosen


def _give(conversation: Conversation, agent: Any, *, actor: Any) -> None:
    previous = conversation.agent_id
    conversation.agent = agent
    conversation.state = State.ACTIVE
    conversation.assigned_at = timezone.now()
    conversation.save(update_fields=["agent", "state", "assigned_at"])
    actions.assign(conversation.ticket, agent, actor=actor)
    status = frames.status(conversation)
    live.publish(group(conversation.pk), frame_event(conversation.ticket, status))
    summary = frame_event(conversation.ticket, frames.chat_summary(conversation))
    live.publish(agent_group(agent.pk), summary)
    if previous and previous != agent.pk:
        live.publish(agent_group(previous), summary)
    if previous is None:
        _list(conversation)  # out of the line: the other agents' panels drop it


def _list(conversation: Conversation) -> None:
    """Tell every agent's panel where a chat stands in the line (chat.consumers filters by
    team, so a restricted team's chat reaches only its members)."""
    team = conversation.ticket.team
    live.publish(
        AGENTS_GROUP,
        {
            "type": "chat.listing",
            "team_id": conversation.ticket.team_id,
            "restricted": bool(team is not None and team.restricted),
            "frame": frames.chat_summary(conversation),
        },
    )


def drain(team_id: int | None = None) -> int:
    """Hand waiting chats to agents with free slots, oldest first; then tell those still
    waiting where they stand. Returns how many were handed out."""
    handed = 0
    with transaction.atomic():
        waiting = Conversation.objects.filter(state=State.WAITING).select_related("ticket", "agent")
        if team_id is not None:
            waiting = waiting.filter(ticket__team_id=team_id)
        for conversation in waiting.order_by("queued_at", "pk")[:200]:
            if _route(conversation) is not None:
                handed += 1
        still = Conversation.objects.filter(state=State.WAITING).select_related("ticket")
        if team_id is not None:
            still = still.filter(ticket__team_id=team_id)
        for conversation in still.order_by("queued_at", "pk")[:200]:
            live.publish(
                group(conversation.pk), frame_event(conversation.ticket, frames.status(conversation))
            )
    return handed


def set_presence(agent: Any, presence: str) -> ChatAgent:
    """An agent goes online (and takes waiting chats) or away (and takes no new ones)."""
    if presence not in Presence.values:
        raise actions.InvalidInput("bad_frame", _("Unknown presence."), field="status")
    with transaction.atomic():
        state, _created = ChatAgent.objects.get_or_create(user=agent)
        state.presence = presence
        state.seen_at = timezone.now()
        state.save(update_fields=["presence", "seen_at"])
    if presence == Presence.ONLINE:
        for team_id in [None, *agent.teams.values_list("pk", flat=True)]:
            drain(team_id)
    return state


def heard_from(agent_id: int) -> None:
    """An agent's socket is alive (a ping): keeps them online."""
    ChatAgent.objects.filter(pk=agent_id).update(seen_at=timezone.now())


def take_over(ticket_id: int, *, agent: Any) -> Conversation:
    """An agent takes a chat from whoever has it (or from the line)."""
    with transaction.atomic():
        conversation = lock_rows(Conversation, [ticket_id])[ticket_id]
        if conversation.state == State.ENDED:
            raise TicketError("chat_ended", _("This chat has ended."))
        ChatAgent.objects.get_or_create(user=agent)
        _give(conversation, agent, actor=agent)
        conversation.ticket.refresh_from_db()
    return conversation


def end_conversation(ticket_id: int, *, by: str, actor: Any = None) -> dict[str, Any]:
    """End a chat. Answered: the ticket is solved (the survey follows). Unanswered: it stays
    an open ticket, and the transcript tells the customer its reference."""
    with transaction.atomic():
        conversation = lock_rows(Conversation, [ticket_id])[ticket_id]
        ticket = Ticket.objects.select_related("contact").get(pk=ticket_id)
        if conversation.state == State.ENDED:
            return frames.ended(conversation, ticket)
        # Answered by an agent, or by the first answer the customer said solved it.
        answered = ticket.first_replied_at is not None or ticket.status == Status.SOLVED
        agent_id = conversation.agent_id
        conversation.state = State.ENDED
        conversation.ended_at = timezone.now()
        conversation.save(update_fields=["state", "ended_at"])
        with translation.override(conversation.language):
            if answered:
                actions.change_status(ticket, Status.SOLVED, actor=actor)
                text = _("This chat has ended. Thank you!")
            else:
                text = (
                    _(
                        "This chat has ended before an agent could answer. Your request stays open as "
                        "%(reference)s; we will answer by email."
                    )
                    if ticket.contact.email
                    else _(
                        "This chat has ended before an agent could answer. Your request stays open as "
                        "%(reference)s; open this chat again to see our answer."
                    )
                ) % {"reference": ticket.reference}
            ticket = Ticket.objects.select_for_update().select_related("contact").get(pk=ticket_id)
            actions.tell_customer(ticket, text, event="chat_ended", by=by, answered=answered)
        frame = frames.ended(conversation, ticket)
        live.publish(group(ticket_id), frame_event(ticket, frame))
        if agent_id is not None:
            live.publish(agent_group(agent_id), frame_event(ticket, frames.chat_summary(conversation)))
        else:
            _list(conversation)  # it leaves the line
    if agent_id is not None:
        drain(ticket.team_id)
    return frame


def end_idle(now: Any = None) -> int:
    """End chats nobody has written in for `CHAT_IDLE_MINUTES` (a customer who closed the app
    without ending): they would hold an agent's slot for ever. A recovery sweep runs it."""
    now = now or timezone.now()
    quiet_since = now - timedelta(minutes=settings.CHAT_IDLE_MINUTES)
    idle = Conversation.objects.exclude(state=State.ENDED).filter(ticket__updated_at__lt=quiet_since)
    ended = 0
    for ticket_id in list(idle.order_by("pk").values_list("pk", flat=True)[:200]):
        end_conversation(ticket_id, by="idle")
        ended += 1
    return ended


def refuse_if_ended(conversation: Conversation) -> None:
    if conversation.state == State.ENDED or conversation.ticket.status == Status.CLOSED:
        raise TicketError("ticket_closed", _("This chat has ended. Please start a new one."))
