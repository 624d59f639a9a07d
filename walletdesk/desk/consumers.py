"""The live desk's websocket (/ws/desk/): ticket nudges for the inbox and the ticket page, and
who else is looking at (or typing a reply on) the ticket an agent has open.

Only an agent's own pages may open it: the Origin must be the site's (core.sockets.same_origin)
and the session an agent's. Refusals are made after accepting, so the page's script sees the
code and stops retrying: 4401 no session, 4403 not an agent or a foreign page.

Server → client frames:

- `{"type": "ticket", "reference", "kind", "version", "actor", "self"}`: a ticket this agent may
  see changed (`desk.live` sends every socket batches of changes, ids only; this consumer
  drops the tickets of restricted teams the agent is not in, and sends one frame per ticket
  of a batch, its latest change). `actor` is the changing agent's name, or null (the customer, the
  system, or the agent themselves: then `self` is true). No subject, no text: the page fetches
  what it shows through the ordinary views, which check access again.
- `{"type": "presence", "reference", "viewers": [{"name", "typing"}]}`: the other agents on the
  watched ticket, each once however many tabs they have open; never the agent themselves.
- `{"type": "watching", "reference"}`, `{"type": "gone", "reference"}` (the watched ticket left
  the agent's sight, e.g. moved to a restricted team), `{"type": "error", "code", ...}`.

Client → server frames: `{"type": "watch", "reference"}` (refused like a ticket that does not
exist unless the agent may open it), `{"type": "unwatch"}`, `{"type": "typing", "reference",
"typing": true|false}` (a flag only: a draft's text never leaves the browser; sent again within
6 s to stay "typing").

Presence travels through the group `ticket.<id>` with `core.live.apublish`, so it crosses the
embedded mode's processes (the bridge) and Redis alike. Every watcher announces itself on
joining, answers a newcomer's join with its own state, repeats its state every 20 s and says
goodbye on leaving; a viewer not heard of for 50 s (its process died) is dropped, and "typing"
lapses 6 s after the last typing frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth import get_user_model

from walletdesk.core import live
from walletdesk.core.agents import is_agent
from walletdesk.core.asgi import run_sync
from walletdesk.core.sockets import same_origin, session_user
from walletdesk.desk.live import GROUP, ticket_group
from walletdesk.tickets import access
from walletdesk.tickets.models import Team

TYPING_SECONDS = 6.0
TYPING_RELAY_SECONDS = 3.0  # a typing agent's "still typing" is passed on at most this often
HEARTBEAT_SECONDS = 20.0
VIEWER_SECONDS = 50.0
SIGHT_SECONDS = 60.0  # how long a socket trusts what it worked out about the agent's teams
TICK_SECONDS = 1.0
MAX_FRAME = 4096
MAX_REFERENCE = 40
FRAMES_PER_WINDOW, FRAME_WINDOW = 40, 10.0  # more from one socket are answered "rate_limited"
NAME_SECONDS = 300.0

NO_SESSION, FORBIDDEN = 4401, 4403


@dataclass(frozen=True)
class Sight:
    """Which tickets an agent sees, by team, as worked out at one moment (tickets.access)."""

    user_id: int
    name: str
    all: bool
    visible: frozenset[int]  # teams whose tickets the agent sees
    hidden: frozenset[int]  # restricted teams they are not in
    at: float

    def decides(self, team_id: int | None) -> bool | None:
        """True or False; None for a team unknown when this was worked out (ask again)."""
        if self.all or team_id is None or team_id in self.visible:
            return True
        if team_id in self.hidden:
            return False
        return None


def _sight(user_id: int) -> Sight | None:
    """On the sync thread: what `user_id` sees now; None once they are no agent."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not is_agent(user):
        return None
    visible = frozenset(access.agent_teams(user).values_list("pk", flat=True))
    hidden = frozenset(Team.objects.exclude(pk__in=visible).values_list("pk", flat=True))
    return Sight(user.pk, str(user.label), access.sees_all(user), visible, hidden, time.monotonic())


def _watchable(user_id: int, reference: str) -> tuple[int, str] | None:
    """On the sync thread: the ticket (id, reference) the agent may open, or None."""
    user = get_user_model().objects.filter(pk=user_id).first()
    found = access.agent_tickets(user).filter(reference=reference.upper()).values_list("pk", "reference")
    row = found.first()
    return (int(row[0]), str(row[1])) if row else None


_names: dict[int, tuple[str | None, float]] = {}


def _agent_name(user_id: int) -> str | None:
    """On the sync thread: an agent's name as the desk shows it; None for anyone else."""
    user = get_user_model().objects.filter(pk=user_id).first()
    return str(user.label) if user is not None and user.is_staff else None


async def actor_name(user_id: int) -> str | None:
    cached = _names.get(user_id)
    now = time.monotonic()
    if cached is not None and now - cached[1] < NAME_SECONDS:
        return cached[0]
    name = await run_sync(_agent_name, user_id)
    if len(_names) > 2000:
        _names.clear()
    _names[user_id] = (name, now)
    return name


@dataclass
class Viewer:
    user_id: int
    name: str
    typing_until: float
    seen: float


class DeskConsumer(AsyncWebsocketConsumer):
    sight: Sight
    watched: tuple[int, str] | None = None  # (ticket id, reference)

    async def connect(self) -> None:
        self.watched = None
        self.viewers: dict[str, Viewer] = {}
        self.typing_until = 0.0
        self.typing_sent = 0.0
        self.last_presence: list[dict[str, Any]] | None = None
        self.ticker: asyncio.Task[None] | None = None
        self.joined = False
        self.recent: list[float] = []
        if not same_origin(self.scope):
            await self._refuse(FORBIDDEN)
            return
        user = await session_user(self.scope)
        if not getattr(user, "is_authenticated", False):
            await self._refuse(NO_SESSION)
            return
        sight = await run_sync(_sight, user.pk) if is_agent(user) else None
        if sight is None:
            await self._refuse(FORBIDDEN)
            return
        self.sight = sight
        live.attach_loop()
        await self.channel_layer.group_add(GROUP, self.channel_name)
        self.joined = True
        await self.accept()

    async def _refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
        if self.watched is not None:
            await self._leave()
        if self.joined:
            await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    # --- from the browser -------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.joined:
            return
        if text_data is None or len(text_data) > MAX_FRAME:
            await self.close(code=1009)
            return
        now = time.monotonic()
        self.recent = [t for t in self.recent if now - t < FRAME_WINDOW]
        if len(self.recent) >= FRAMES_PER_WINDOW:
            await self._send({"type": "error", "code": "rate_limited"})
            return
        self.recent.append(now)
        try:
            frame = json.loads(text_data)
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self._send({"type": "error", "code": "bad_frame"})
            return
        kind = frame["type"]
        if kind == "watch":
            await self._watch(frame.get("reference"))
        elif kind == "unwatch":
            if self.watched is not None:
                await self._leave()
        elif kind == "typing":
            await self._typing(frame.get("reference"), frame.get("typing"))
        else:
            await self._send({"type": "error", "code": "unknown_type"})

    async def _watch(self, reference: Any) -> None:
        if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE:
            await self._send({"type": "error", "code": "bad_frame"})
            return
        if self.watched is not None and self.watched[1] == reference.upper():
            await self._send({"type": "watching", "reference": self.watched[1]})
            await self._send_presence(force=True)
            return
        found = await run_sync(_watchable, self.sight.user_id, reference)
        if found is None:
            # Refused exactly as a reference that does not exist.
            await self._send({"type": "error", "code": "not_found", "reference": reference[:MAX_REFERENCE]})
            return
        if self.watched is not None:
            await self._leave()
        self.watched = found
        self.viewers = {}
        self.last_presence = None
        self.typing_until = 0.0
        await self.channel_layer.group_add(ticket_group(found[0]), self.channel_name)
        await self._send({"type": "watching", "reference": found[1]})
        await self._send_presence(force=True)
        await self._announce("join")
        self.ticker = asyncio.ensure_future(self._tick())

    async def _leave(self) -> None:
        watched = self.watched
        if watched is None:
            return
        if self.ticker is not None:
            self.ticker.cancel()
            self.ticker = None
        with contextlib.suppress(Exception):
            await self._announce("leave")
        await self.channel_layer.group_discard(ticket_group(watched[0]), self.channel_name)
        self.watched = None
        self.viewers = {}

    async def _typing(self, reference: Any, typing: Any) -> None:
        if self.watched is None or not isinstance(reference, str) or reference.upper() != self.watched[1]:
            return
        now = time.monotonic()
        was = self.typing_until > now
        self.typing_until = now + TYPING_SECONDS if typing is True else 0.0
        if bool(typing is True) != was or (typing is True and now - self.typing_sent >= TYPING_RELAY_SECONDS):
            await self._announce("state")

    async def _announce(self, op: str) -> None:
        """Tell everyone watching the ticket (every process) that this socket joined, is still
        here (typing or not), or left."""
        if self.watched is None:
            return
        now = time.monotonic()
        typing = op != "leave" and self.typing_until > now
        if typing:
            self.typing_sent = now
        await live.apublish(
            ticket_group(self.watched[0]),
            {
                "type": "desk.presence",
                "op": op,
                "ticket_id": self.watched[0],
                "channel": self.channel_name,
                "user_id": self.sight.user_id,
                "name": self.sight.name,
                "typing": typing,
            },
        )

    async def _tick(self) -> None:
        beat = time.monotonic()
        while self.watched is not None:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            if now - beat >= HEARTBEAT_SECONDS:
                beat = now
                await self._announce("state")
            for channel, viewer in list(self.viewers.items()):
                if now - viewer.seen > VIEWER_SECONDS:
                    del self.viewers[channel]
            await self._send_presence()

    async def _send_presence(self, *, force: bool = False) -> None:
        if self.watched is None:
            return
        now = time.monotonic()
        people: dict[int, dict[str, Any]] = {}
        for viewer in self.viewers.values():
            if viewer.user_id == self.sight.user_id:
                continue  # the agent's own other tabs
            person = people.setdefault(viewer.user_id, {"name": viewer.name, "typing": False})
            person["typing"] = person["typing"] or viewer.typing_until > now
        viewers = sorted(people.values(), key=lambda p: (p["name"].casefold(), p["name"]))
        if force or viewers != self.last_presence:
            self.last_presence = viewers
            await self._send({"type": "presence", "reference": self.watched[1], "viewers": viewers})

    # --- from the channel layer -------------------------------------------------------------

    async def desk_tickets(self, event: dict[str, Any]) -> None:
        """A batch of changes (desk.live): one frame per ticket, its latest change."""
        latest: dict[Any, dict[str, Any]] = {}
        for change in event.get("changes") or []:
            latest.pop(change.get("ticket_id"), None)
            latest[change.get("ticket_id")] = change
        for change in latest.values():
            if not await self.desk_ticket(change):
                return

    async def desk_ticket(self, event: dict[str, Any]) -> bool:
        """One change; False once this socket is closed."""
        team_id = event.get("team_id")
        verdict = self.sight.decides(team_id)
        if verdict is None or time.monotonic() - self.sight.at > SIGHT_SECONDS:
            # The session again too: an agent who signed out (or changed password) is gone.
            user = await session_user(self.scope)
            same = getattr(user, "pk", None) == self.sight.user_id
            sight = await run_sync(_sight, self.sight.user_id) if same else None
            if sight is None:  # signed out, or no longer an agent
                await self.close(code=NO_SESSION)
                return False
            self.sight = sight
            verdict = bool(sight.decides(team_id))
        ticket_id = event.get("ticket_id")
        if not verdict:
            if self.watched is not None and self.watched[0] == ticket_id:
                reference = self.watched[1]
                await self._leave()
                await self._send({"type": "gone", "reference": reference})
            return True
        actor_id = event.get("actor_id")
        mine = actor_id is not None and actor_id == self.sight.user_id
        await self._send(
            {
                "type": "ticket",
                "reference": event.get("reference"),
                "kind": event.get("kind"),
                "version": event.get("version"),
                "actor": None if mine or actor_id is None else await actor_name(int(actor_id)),
                "self": mine,
            }
        )
        return True

    async def desk_presence(self, event: dict[str, Any]) -> None:
        if self.watched is None or event.get("ticket_id") != self.watched[0]:
            return  # sent before this socket moved on
        channel = str(event.get("channel"))
        if channel == self.channel_name:
            return
        now = time.monotonic()
        if event.get("op") == "leave":
            self.viewers.pop(channel, None)
        else:
            self.viewers[channel] = Viewer(
                user_id=int(event.get("user_id") or 0),
                name=str(event.get("name") or ""),
                typing_until=now + TYPING_SECONDS if event.get("typing") else 0.0,
                seen=now,
            )
            if event.get("op") == "join":
                await self._announce("state")  # so the newcomer learns who is here
        await self._send_presence()
