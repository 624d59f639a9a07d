"""The chat's sockets: the customer's (`/ws/chat/<reference>/`) and the agent's (`/ws/chat/agent/`).

Frames and their meaning: docs/chat-protocol.md. Database work runs on the process's sync
thread (core.asgi.run_sync), as requests do.

Exactly once: a socket remembers the highest `seq` it sent for each conversation. A message
frame at or below it is dropped; one above the next number first brings the gap from the
database (frames from two writers can arrive out of order, and a publication can be lost
with the process that committed it). Replays after a reconnect start above `after`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation
from django.utils.translation import gettext_lazy

from walletdesk.chat import actions, credentials, frames
from walletdesk.chat.models import ChatAgent, Conversation, State
from walletdesk.core import live
from walletdesk.core.agents import is_agent
from walletdesk.core.asgi import run_sync
from walletdesk.core.errors import Refused
from walletdesk.core.sockets import query, same_origin, session_user
from walletdesk.tickets import access
from walletdesk.tickets import actions as tickets_actions
from walletdesk.tickets.models import AuthorRole, Channel, Ticket

logger = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024
LIVE_RETRY_SECONDS = 5
LIVE_UNAVAILABLE = gettext_lazy(
    "Live chat is unavailable for a moment. We keep trying to reconnect, and your messages are "
    "kept until they can be sent. You can also write to us from the contact form."
)
MESSAGES_PER_MINUTE = 30
TYPING_EVERY = 2.0  # seconds between relayed typing frames of one socket
_pending: set[asyncio.Future[Any]] = set()  # fire-and-forget heartbeats, held until done


class _Socket(AsyncWebsocketConsumer):
    role = ""

    async def connect(self) -> None:
        self.sent: dict[int, int] = {}  # conversation -> highest seq sent
        self.acked: dict[int, set[int]] = {}  # conversation -> seqs sent outside a join (acks)
        self.recent: dict[Any, deque[float]] = {}
        self.typing_at = 0.0
        await self.accept()
        live.attach_loop()
        try:
            await self.open()
        except Exception as exc:
            if live.layer_unreachable(exc):
                # Redis (the channel layer) is down: pages and tickets still work, live chat
                # cannot. Say so, in the visitor's language, instead of dropping the socket
                # without a word; 1013 is "try again later", and the widget reconnects.
                logger.warning(
                    "chat socket refused: the channel layer is unreachable (%s)", type(exc).__name__
                )
                with translation.override(getattr(self, "language", None) or translation.get_language()):
                    message = str(LIVE_UNAVAILABLE)
                await self.error("live_unavailable", message, retry_after=LIVE_RETRY_SECONDS)
                await self.close(code=1013)
                return
            logger.exception("opening a chat socket failed")
            await self.close(code=1011)

    async def open(self) -> None:
        raise NotImplementedError

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw) > MAX_FRAME:
            await self.close(code=1009)
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            await self.error("bad_frame", "Frames are JSON objects.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.error("bad_frame", "Frames are JSON objects with a type.")
            return
        handler = getattr(self, f"on_{frame['type']}", None)
        if handler is None:
            await self.error("bad_frame", f"Unknown frame type {frame['type'][:40]!r}.")
            return
        try:
            await handler(frame)
        except Refused as exc:
            extra = {"client_id": frame.get("client_id")} if frame.get("type") == "message" else {}
            if frame.get("reference"):
                extra["reference"] = str(frame["reference"])[:40]
            await self.error(exc.code, exc.message, **extra)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    def over_rate(self, key: Any = None) -> bool:
        """More than MESSAGES_PER_MINUTE on one conversation (an agent's socket carries many)."""
        now = time.monotonic()
        recent = self.recent.setdefault(key, deque())
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= MESSAGES_PER_MINUTE:
            return True
        recent.append(now)
        return False

    async def deliver(self, ticket_id: int, frame: dict[str, Any], extra: dict[str, Any]) -> None:
        """Send a message frame exactly once, in order (see the module's docstring)."""
        seq = frame.get("seq")
        if not isinstance(seq, int):
            await self.send_json({**frame, **extra})
            return
        last = self.sent.get(ticket_id, 0)
        if seq <= last:
            return
        acked = self.acked.get(ticket_id, ())
        if seq > last + 1:
            for missed in await run_sync(actions.after, ticket_id, last):
                if last < missed["seq"] < seq and missed["seq"] not in acked:
                    await self.send_json({**missed, **extra})
        self.sent[ticket_id] = seq
        if seq not in acked:
            await self.send_json({**frame, **extra})

    async def replay(self, ticket_id: int, after: int, extra: dict[str, Any]) -> None:
        self.sent[ticket_id] = max(self.sent.get(ticket_id, 0), after)
        while True:
            missed = await run_sync(actions.after, ticket_id, self.sent[ticket_id])
            for frame in missed:
                await self.deliver(ticket_id, frame, extra)
            if len(missed) < 500:
                return

    def extra_for(self, event: dict[str, Any]) -> dict[str, Any]:
        return {}

    async def chat_frame(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        if frame.get("type") == "message":
            await self.deliver(event["ticket_id"], frame, self.extra_for(event))
        else:
            await self.send_json({**frame, **self.extra_for(event)})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if (
            event.get("sender") == self.channel_name
            or event.get("author") == self.role == AuthorRole.CUSTOMER
        ):
            return
        frame = {
            "type": "typing",
            "author": event["author"],
            "name": event.get("name", ""),
            "typing": event["typing"],
        }
        await self.send_json({**frame, **self.extra_for(event)})

    async def chat_read(self, event: dict[str, Any]) -> None:
        if event.get("sender") == self.channel_name:
            return
        frame = {"type": "read", "author": event["author"], "seq": event["seq"]}
        await self.send_json({**frame, **self.extra_for(event)})


# --- the customer's socket -------------------------------------------------------------------


def _hello(conversation_id: int) -> dict[str, Any]:
    conversation = Conversation.objects.select_related("ticket", "agent").get(pk=conversation_id)
    return frames.hello(conversation, tickets_actions.last_seq(conversation_id))


class CustomerConsumer(_Socket):
    role = AuthorRole.CUSTOMER

    async def open(self) -> None:
        reference = self.scope["url_route"]["kwargs"]["reference"]
        params = query(self.scope)
        conversation = await run_sync(credentials.conversation_for, reference, params.get("t", ""))
        if conversation is None:
            await self.close(code=4401)
            return
        try:
            after = max(0, int(params.get("after") or 0))
        except ValueError:
            after = 0
        self.ticket_id = conversation.pk
        self.language = conversation.language
        self.group = actions.group(conversation.pk)
        # Join first, then read: a message committed in between arrives both ways, and the
        # seq check sends it once.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(await run_sync(_speaking(self.language, _hello), conversation.pk))
        await self.replay(conversation.pk, after, {})

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def on_message(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        if self.over_rate():
            await self.error("rate_limited", "Too many messages; wait a minute.", client_id=client_id)
            return
        body = frame.get("body")
        if not isinstance(body, str):
            body = ""
        posted = await run_sync(
            _speaking(self.language, actions.post_customer_message), self.ticket_id, client_id, body
        )
        if posted.duplicate and posted.frame["seq"] <= self.sent.get(self.ticket_id, 0):
            # A resend of a stored message whose number this socket is past (it reconnected
            # with `after` above it): the sender still needs its ack, so it gets it again.
            await self.send_json(posted.frame)
            return
        await self.deliver(self.ticket_id, posted.frame, {})

    async def on_typing(self, frame: dict[str, Any]) -> None:
        typing = bool(frame.get("typing"))
        now = time.monotonic()
        if typing and now - self.typing_at < TYPING_EVERY:
            return
        self.typing_at = now if typing else 0.0
        await live.apublish(
            self.group,
            {
                "type": "chat.typing",
                "ticket_id": self.ticket_id,
                "author": AuthorRole.CUSTOMER,
                "typing": typing,
                "sender": self.channel_name,
            },
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if not isinstance(seq, int) or seq < 0:
            await self.error("bad_frame", "read needs a seq.")
            return
        seq = min(seq, self.sent.get(self.ticket_id, 0))
        stored = await run_sync(partial(actions.mark_read, by=AuthorRole.CUSTOMER), self.ticket_id, seq)
        await live.apublish(
            self.group,
            {
                "type": "chat.read",
                "ticket_id": self.ticket_id,
                "author": AuthorRole.CUSTOMER,
                "seq": stored,
                "sender": self.channel_name,
            },
        )

    async def on_end(self, frame: dict[str, Any]) -> None:
        await run_sync(_speaking(self.language, _end), self.ticket_id, "customer", None)

    async def on_first_answer(self, frame: dict[str, Any]) -> None:
        """A press on the bot's line: only on this socket's own conversation (its credential)."""
        choice = frame.get("choice")
        await run_sync(
            _speaking(self.language, actions.answer_first),
            self.ticket_id,
            frame.get("seq"),
            choice if isinstance(choice, str) else "",
        )

    async def chat_recheck(self, event: dict[str, Any]) -> None:
        return None  # for agents' sockets


def _speaking(language: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` run in the conversation's language (its refusals are read by the customer)."""

    def run(*args: Any) -> Any:
        with translation.override(language):
            return fn(*args)

    return run


def _end(ticket_id: int, by: str, actor: Any) -> dict[str, Any]:
    return actions.end_conversation(ticket_id, by=by, actor=actor)


# --- the agent's socket ----------------------------------------------------------------------


def _agent_hello(user: Any) -> dict[str, Any]:
    from django.utils import timezone

    state, _created = ChatAgent.objects.get_or_create(user=user)
    ChatAgent.objects.filter(pk=user.pk).update(seen_at=timezone.now())
    mine = (
        Conversation.objects.filter(agent=user, state=State.ACTIVE)
        .select_related("ticket__contact", "agent")
        .order_by("assigned_at")
    )
    waiting = (
        Conversation.objects.filter(state=State.WAITING, ticket__in=access.agent_tickets(user))
        .select_related("ticket__contact", "agent")
        .order_by("queued_at")[:50]
    )
    return {
        "type": "hello",
        "status": state.presence,
        "capacity": state.capacity,
        "name": frames.agent_name(user),
        "chats": [frames.chat_summary(c) for c in [*mine, *waiting]],
    }


def _sight(user: Any) -> tuple[bool, set[int]]:
    """What the agent's socket needs to filter waiting chats without a query per event."""
    return access.sees_all(user), set(user.teams.values_list("pk", flat=True))


def _visible_chat(user: Any, reference: str) -> Ticket | None:
    if not isinstance(reference, str) or len(reference) > 40:
        return None
    # One indexed look-up, then the one place that decides who sees a ticket (an agent socket
    # with fifty chats joins each: the listing query with its joins cost 6 ms a time).
    ticket = (
        Ticket.objects.filter(reference=reference.upper(), channel=Channel.CHAT, chat__isnull=False)
        .select_related("team")
        .first()
    )
    if ticket is None or not access.agent_can_see(user, ticket):
        return None
    return ticket


def _post_as_agent(user: Any, reference: str, client_id: Any, body: str) -> tuple[int, actions.Posted]:
    ticket = _visible_chat(user, reference)
    if ticket is None:
        raise actions.TicketError("not_found", "No such chat.")
    return ticket.pk, actions.post_agent_message(ticket.pk, client_id, body, agent=user)


def _take(user: Any, reference: str) -> None:
    ticket = _visible_chat(user, reference)
    if ticket is None:
        raise actions.TicketError("not_found", "No such chat.")
    actions.take_over(ticket.pk, agent=user)


def _agent_end(user: Any, reference: str) -> None:
    ticket = _visible_chat(user, reference)
    if ticket is None:
        raise actions.TicketError("not_found", "No such chat.")
    actions.end_conversation(ticket.pk, by="agent", actor=user)


def _agent_read(user: Any, reference: str, seq: int) -> tuple[int, int]:
    ticket = _visible_chat(user, reference)
    if ticket is None:
        raise actions.TicketError("not_found", "No such chat.")
    return ticket.pk, actions.mark_read(ticket.pk, seq, by=AuthorRole.AGENT)


class AgentConsumer(_Socket):
    role = AuthorRole.AGENT

    async def open(self) -> None:
        user = await session_user(self.scope)
        if not same_origin(self.scope) or not is_agent(user):
            await self.close(code=4403)
            return
        self.user = user
        self.joined: dict[int, str] = {}  # ticket id -> reference
        self.beat_at = time.monotonic()
        self.own_group = actions.agent_group(user.pk)
        self.sees_all, self.team_ids = await run_sync(_sight, user)
        await self.channel_layer.group_add(self.own_group, self.channel_name)
        await self.channel_layer.group_add(actions.AGENTS_GROUP, self.channel_name)
        await self.send_json(await run_sync(_agent_hello, user))

    async def disconnect(self, code: int) -> None:
        if getattr(self, "own_group", None):
            await self.channel_layer.group_discard(self.own_group, self.channel_name)
            await self.channel_layer.group_discard(actions.AGENTS_GROUP, self.channel_name)
        for ticket_id in list(getattr(self, "joined", {})):
            await self.channel_layer.group_discard(actions.group(ticket_id), self.channel_name)

    def extra_for(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"reference": event.get("reference") or self.joined.get(event.get("ticket_id", 0), "")}

    async def chat_recheck(self, event: dict[str, Any]) -> None:
        """The chat moved (to a restricted team): a socket that may no longer see it leaves."""
        ticket_id = event["ticket_id"]
        reference = self.joined.get(ticket_id)
        if reference is None:
            return
        if await run_sync(_visible_chat, self.user, reference) is None:
            del self.joined[ticket_id]
            self.sent.pop(ticket_id, None)
            await self.channel_layer.group_discard(actions.group(ticket_id), self.channel_name)
            await self.send_json(
                {"type": "error", "code": "not_found", "message": "No such chat.", "reference": reference}
            )

    async def chat_listing(self, event: dict[str, Any]) -> None:
        """A chat waiting in line, or leaving it: every agent who may see its team hears."""
        team_id = event.get("team_id")
        if event.get("restricted") and not (self.sees_all or team_id in self.team_ids):
            return
        await self.send_json(event["frame"])

    async def on_ping(self, frame: dict[str, Any]) -> None:
        if time.monotonic() - self.beat_at > 20:
            self.beat_at = time.monotonic()
            # Not awaited: while a consumer awaits, uvicorn stops reading its socket, and a
            # busy sync thread would make the agent miss pings and drop (bench/chat_load.py).
            beat = asyncio.ensure_future(run_sync(actions.heard_from, self.user.pk))
            _pending.add(beat)
            beat.add_done_callback(_pending.discard)
        await self.send_json({"type": "pong"})

    async def on_presence(self, frame: dict[str, Any]) -> None:
        state = await run_sync(actions.set_presence, self.user, frame.get("status"))
        await self.send_json({"type": "presence", "status": state.presence})

    async def on_join(self, frame: dict[str, Any]) -> None:
        reference = frame.get("reference")
        ticket = await run_sync(_visible_chat, self.user, reference)
        if ticket is None:
            await self.error("not_found", "No such chat.", reference=str(reference)[:40])
            return
        after = frame.get("after")
        after = after if isinstance(after, int) and after >= 0 else 0
        self.joined[ticket.pk] = ticket.reference
        await self.channel_layer.group_add(actions.group(ticket.pk), self.channel_name)
        self.sent.pop(ticket.pk, None)
        await self.replay(ticket.pk, after, {"reference": ticket.reference})

    async def on_leave(self, frame: dict[str, Any]) -> None:
        for ticket_id, reference in list(self.joined.items()):
            if reference == str(frame.get("reference", "")).upper():
                del self.joined[ticket_id]
                await self.channel_layer.group_discard(actions.group(ticket_id), self.channel_name)

    async def on_message(self, frame: dict[str, Any]) -> None:
        if self.over_rate(str(frame.get("reference", "")).upper()):
            await self.error(
                "rate_limited", "Too many messages; wait a minute.", client_id=frame.get("client_id")
            )
            return
        body = frame.get("body") if isinstance(frame.get("body"), str) else ""
        ticket_id, posted = await run_sync(
            _post_as_agent, self.user, frame.get("reference"), frame.get("client_id"), body
        )
        reference = self.joined.get(ticket_id) or str(frame.get("reference", "")).upper()
        if ticket_id in self.joined:
            await self.deliver(ticket_id, posted.frame, {"reference": reference})
        else:
            # Not joined: its ack only, remembered so a later join's replay does not send it again.
            self.acked.setdefault(ticket_id, set()).add(posted.frame["seq"])
            await self.send_json({**posted.frame, "reference": reference})

    async def on_typing(self, frame: dict[str, Any]) -> None:
        reference = str(frame.get("reference", "")).upper()
        ticket_id = next((t for t, r in self.joined.items() if r == reference), None)
        if ticket_id is None:
            await self.error("not_found", "Join the chat first.", reference=reference[:40])
            return
        typing = bool(frame.get("typing"))
        now = time.monotonic()
        if typing and now - self.typing_at < TYPING_EVERY:
            return
        self.typing_at = now if typing else 0.0
        await live.apublish(
            actions.group(ticket_id),
            {
                "type": "chat.typing",
                "ticket_id": ticket_id,
                "reference": reference,
                "author": AuthorRole.AGENT,
                "name": frames.agent_name(self.user),
                "typing": typing,
                "sender": self.channel_name,
            },
        )

    async def on_read(self, frame: dict[str, Any]) -> None:
        seq = frame.get("seq")
        if not isinstance(seq, int) or seq < 0:
            await self.error("bad_frame", "read needs a seq.")
            return
        reference = str(frame.get("reference", ""))
        ticket_id, stored = await run_sync(_agent_read, self.user, reference, seq)
        await live.apublish(
            actions.group(ticket_id),
            {
                "type": "chat.read",
                "ticket_id": ticket_id,
                "reference": reference.upper(),
                "author": AuthorRole.AGENT,
                "seq": stored,
                "sender": self.channel_name,
            },
        )

    async def on_take(self, frame: dict[str, Any]) -> None:
        await run_sync(_take, self.user, frame.get("reference"))

    async def on_end(self, frame: dict[str, Any]) -> None:
        await run_sync(_agent_end, self.user, frame.get("reference"))
