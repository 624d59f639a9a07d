"""The live desk's websocket (/ws/desk/) through Channels' WebsocketCommunicator: who may open
it, which ticket changes reach which agent, and presence between agents on one ticket.

The consumer reads the session and checks access on the process's sync thread (core.asgi), so
these tests commit their data (transactional database) for that thread to see it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from tests.conftest import _make_user
from walletdesk.core import live
from walletdesk.core.asgi import run_sync
from walletdesk.desk import consumers
from walletdesk.desk import live as desk_live
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Status, Team, Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

SITE = "http://127.0.0.1:8000"
SECRET_SUBJECT = "Subject-7f3a my seed is in here"
SECRET_BODY = "Body-9c1e please help, the customer's words"


@pytest.fixture(autouse=True)
def _fresh_layer(settings: Any) -> Iterator[None]:
    # One process here: no bridge table to poll. Each test runs its own event loop, so the
    # in-memory layer and core.live's loop start afresh.
    settings.LIVE_BRIDGE = False
    channel_layers.backends.clear()
    live.reset_for_tests()
    yield
    live.reset_for_tests()
    channel_layers.backends.clear()


def cookie_for(user: Any) -> str:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def socket(cookie: str | None, origin: str | None = SITE) -> WebsocketCommunicator:
    from walletdesk.asgi import application

    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/desk/", headers=headers)


async def opened(cookie: str | None, origin: str | None = SITE) -> WebsocketCommunicator:
    ws = socket(cookie, origin)
    connected, _ = await ws.connect()
    assert connected
    return ws


async def frame(ws: WebsocketCommunicator, timeout: float = 3) -> dict[str, Any]:
    return dict(json.loads(await ws.receive_from(timeout=timeout)))


async def frame_where(
    ws: WebsocketCommunicator, match: Callable[[dict[str, Any]], bool], timeout: float = 5
) -> dict[str, Any]:
    """The first frame that matches, skipping others (presence refreshes, earlier nudges)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        assert left > 0, "no matching frame"
        got = await frame(ws, timeout=left)
        if match(got):
            return got


async def refused_with(ws: WebsocketCommunicator) -> int:
    connected, _ = await ws.connect()
    assert connected  # accepted, then closed: the page's script sees why
    output = await ws.receive_output(timeout=3)
    assert output["type"] == "websocket.close", output
    assert await ws.receive_nothing(timeout=0.2)
    return int(output["code"])


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]


def new_ticket(category: str, subject: str = SECRET_SUBJECT) -> Ticket:
    return actions.create_ticket(
        NewTicket(subject=subject, body=SECRET_BODY, category=category, email="wang@example.com")
    )


# --- who may open it ----------------------------------------------------------------------------


def test_only_an_agent_on_the_sites_own_page_may_open_it(alice: Any, carol: Any) -> None:
    agent, customer = cookie_for(alice), cookie_for(carol)
    gone = _make_user("gone@desk.test", staff=True, teams=("general",))
    demoted = _make_user("demoted@desk.test", staff=True, teams=("general",))
    gone_cookie, demoted_cookie = cookie_for(gone), cookie_for(demoted)
    gone.is_active = False  # a deactivated account's session signs nobody in
    gone.save()
    demoted.is_staff = False  # still signed in, no longer an agent
    demoted.save()

    async def scenario() -> None:
        assert await refused_with(socket(None)) == 4401
        assert await refused_with(socket("sessionid=not-a-session")) == 4401
        assert await refused_with(socket(customer)) == 4403
        assert await refused_with(socket(gone_cookie)) == 4401
        assert await refused_with(socket(demoted_cookie)) == 4403
        # Cross-site websocket hijacking: another site's page, the agent's own cookie.
        assert await refused_with(socket(agent, origin="https://evil.example")) == 4403
        assert await refused_with(socket(agent, origin="http://127.0.0.1:8000.evil.example")) == 4403
        assert await refused_with(socket(agent, origin=None)) == 4403
        ws = await opened(agent)
        await ws.send_to(text_data=json.dumps({"type": "hello"}))
        assert (await frame(ws))["code"] == "unknown_type"
        await ws.disconnect()

    run(scenario)


# --- ticket nudges -------------------------------------------------------------------------------


def test_an_agent_sees_new_tickets_and_changes_as_they_happen(alice: Any) -> None:
    colleague = _make_user("bob@general.test", staff=True, teams=("general",))
    cookie = cookie_for(alice)

    async def scenario() -> None:
        ws = await opened(cookie)
        ticket = await run_sync(new_ticket, "other")
        got = await frame(ws)
        assert got == {
            "type": "ticket",
            "reference": ticket.reference,
            "kind": "created",
            "version": ticket.version,
            "actor": None,
            "self": False,
        }
        await run_sync(lambda: actions.change_status(ticket, Status.SOLVED, actor=colleague))
        got = await frame_where(ws, lambda f: f.get("kind") == "status_changed")
        assert got["reference"] == ticket.reference and got["actor"] == "Bob" and not got["self"]
        assert got["version"] == (await run_sync(lambda: Ticket.objects.get(pk=ticket.pk).version))
        # Alice's own note: she is told it was her (the page refreshes quietly), not by name.
        await run_sync(
            lambda: actions.add_agent_message(ticket, "Internal: checked", agent=alice, internal=True)
        )
        got = await frame_where(ws, lambda f: f.get("kind") == "note")
        assert got["self"] is True and got["actor"] is None
        await ws.disconnect()

    run(scenario)


def test_the_nudge_carries_no_ticket_text(alice: Any) -> None:
    """The layer (Redis, or the bridge table) is shared: what goes through it is ids only."""
    cookie = cookie_for(alice)

    async def scenario() -> None:
        ws = await opened(cookie)  # attaches the loop that sends
        layer = live.get_layer()
        spy = await layer.new_channel()
        await layer.group_add("desk", spy)
        ticket = await run_sync(new_ticket, "other")
        event = await asyncio.wait_for(layer.receive(spy), 3)
        assert set(event) == {"type", "changes"} and event["type"] == "desk.tickets"
        (change,) = event["changes"]
        assert set(change) == {"ticket_id", "reference", "team_id", "kind", "version", "actor_id"}
        assert change["reference"] == ticket.reference and change["team_id"] == ticket.team_id
        sent = json.dumps(event) + json.dumps(await frame(ws))
        for secret in (SECRET_SUBJECT, SECRET_BODY, "wang@example.com", "Subject-7f3a", "Body-9c1e"):
            assert secret not in sent
        await ws.disconnect()

    run(scenario)


def test_a_restricted_teams_ticket_reaches_only_its_team(alice: Any, bob: Any, root: Any) -> None:
    """Alice (General) never hears of a Security-desk ticket; Bob (Security) and the admin do."""

    cookies = [cookie_for(u) for u in (alice, bob, root)]

    async def scenario() -> None:
        general, security, admin = [await opened(c) for c in cookies]
        secret = await run_sync(new_ticket, "unauthorised_tx")
        assert (await run_sync(lambda: Ticket.objects.get(pk=secret.pk).team.restricted)) is True
        for ws in (security, admin):
            assert (await frame(ws))["reference"] == secret.reference
        await run_sync(lambda: actions.change_status(secret, Status.OPEN, actor=bob))
        await frame_where(security, lambda f: f.get("kind") == "status_changed")
        # Then an ordinary ticket: it reaches Alice, and it is the first thing she hears of.
        plain = await run_sync(new_ticket, "other")
        got = await frame(general)
        assert got["reference"] == plain.reference
        assert await general.receive_nothing(timeout=0.3)
        for ws in (general, security, admin):
            await ws.disconnect()

    run(scenario)


def test_a_ticket_moved_to_a_restricted_team_stops_reaching_others(alice: Any, bob: Any) -> None:
    cookie = cookie_for(alice)

    async def scenario() -> None:
        general = await opened(cookie)
        ticket = await run_sync(new_ticket, "other")
        assert (await frame(general))["kind"] == "created"
        await general.send_to(text_data=json.dumps({"type": "watch", "reference": ticket.reference}))
        assert (await frame_where(general, lambda f: f["type"] == "watching"))[
            "reference"
        ] == ticket.reference

        security = await run_sync(lambda: Team.objects.get(slug="security"))
        await run_sync(lambda: actions.set_team(ticket, security, actor=bob))
        got = await frame_where(general, lambda f: f["type"] in ("gone", "ticket"))
        assert got == {"type": "gone", "reference": ticket.reference}
        await run_sync(lambda: actions.change_status(ticket, Status.OPEN, actor=bob))
        assert await general.receive_nothing(timeout=0.4)
        await general.disconnect()

    run(scenario)


# --- watching one ticket: presence ---------------------------------------------------------------


def test_watch_is_refused_for_a_ticket_the_agent_may_not_open(alice: Any, bob: Any) -> None:
    alice_cookie, bob_cookie = cookie_for(alice), cookie_for(bob)

    async def scenario() -> None:
        secret = await run_sync(new_ticket, "unauthorised_tx")
        await asyncio.sleep(3 * desk_live.FLUSH_SECONDS)  # its nudge gone before Bob connects
        security = await opened(bob_cookie)
        await security.send_to(text_data=json.dumps({"type": "watch", "reference": secret.reference}))
        await frame_where(security, lambda f: f["type"] == "watching")
        assert (await frame(security))["viewers"] == []
        general = await opened(alice_cookie)
        answers = []
        for ref in (secret.reference, secret.reference.lower(), "WD-000000-NOPE00"):
            await general.send_to(text_data=json.dumps({"type": "watch", "reference": ref}))
            answers.append(await frame(general))
        # The same answer as for a reference that does not exist.
        assert [a["code"] for a in answers] == ["not_found"] * 3
        # She did not join: Bob hears of no viewer, and her typing goes nowhere.
        await general.send_to(
            text_data=json.dumps({"type": "typing", "reference": secret.reference, "typing": True})
        )
        assert await security.receive_nothing(timeout=0.4)
        for ws in (general, security):
            await ws.disconnect()

    run(scenario)


def test_two_agents_see_each_other_viewing_and_typing_and_leaving(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "TYPING_SECONDS", 1.0)
    colleague = _make_user("bob@general.test", staff=True, teams=("general",))
    ticket = new_ticket("other")
    watch = json.dumps({"type": "watch", "reference": ticket.reference})
    alice_cookie, bob_cookie = cookie_for(alice), cookie_for(colleague)

    def viewers(f: dict[str, Any]) -> list[dict[str, Any]] | None:
        return f["viewers"] if f["type"] == "presence" else None

    async def scenario() -> None:
        a = await opened(alice_cookie)
        await a.send_to(text_data=watch)
        assert await frame(a) == {"type": "watching", "reference": ticket.reference}
        assert await frame(a) == {"type": "presence", "reference": ticket.reference, "viewers": []}

        b = await opened(bob_cookie)
        b2 = await opened(bob_cookie)  # Bob's second tab: still one Bob
        for ws in (b, b2):
            await ws.send_to(text_data=watch)
        expected_bob = [{"name": "Bob", "typing": False}]
        await frame_where(a, lambda f: viewers(f) == expected_bob)
        await frame_where(b, lambda f: viewers(f) == [{"name": "Alice", "typing": False}])

        # Bob types; only the flag travels, whatever else the frame carries.
        draft = "Dear customer, draft-5e2b text"
        await b.send_to(
            text_data=json.dumps(
                {"type": "typing", "reference": ticket.reference, "typing": True, "body": draft}
            )
        )
        typing = await frame_where(a, lambda f: viewers(f) == [{"name": "Bob", "typing": True}])
        assert draft not in json.dumps(typing)
        # He stops sending typing frames: it lapses.
        await frame_where(a, lambda f: viewers(f) == expected_bob, timeout=4)

        # Bob closes one tab: still viewing. Closes the other: gone.
        await b2.disconnect()
        assert await a.receive_nothing(timeout=0.5) or viewers(await frame(a)) == expected_bob
        await b.disconnect()
        await frame_where(a, lambda f: viewers(f) == [])
        await a.send_to(text_data=json.dumps({"type": "unwatch"}))
        await a.disconnect()

    run(scenario)


def test_signing_out_ends_the_socket_at_the_next_check(alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumers, "SIGHT_SECONDS", 0.0)  # every nudge checks again
    client = Client()
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def scenario() -> None:
        ws = await opened(cookie)
        first = await run_sync(new_ticket, "other")
        assert (await frame(ws))["reference"] == first.reference
        await run_sync(client.logout)
        await run_sync(new_ticket, "other")
        output = await ws.receive_output(timeout=3)
        assert output == {"type": "websocket.close", "code": 4401}
        await ws.wait()

    run(scenario)


def test_a_socket_flooding_frames_is_slowed_down(alice: Any) -> None:
    cookie = cookie_for(alice)

    async def scenario() -> None:
        ws = await opened(cookie)
        for _ in range(consumers.FRAMES_PER_WINDOW):
            await ws.send_to(text_data=json.dumps({"type": "unwatch"}))
        await ws.send_to(text_data=json.dumps({"type": "watch", "reference": "WD-1"}))
        assert (await frame(ws))["code"] == "rate_limited"
        await ws.send_to(text_data="x" * (consumers.MAX_FRAME + 1))
        assert (await ws.receive_output(timeout=3)) == {"type": "websocket.close", "code": 1009}
        await ws.wait()

    run(scenario)


def test_a_burst_of_changes_is_one_event_and_only_committed_ones(alice: Any) -> None:
    """Tickets created together go out as one batch (the bridge writes one row, each socket
    wakes once); a change rolled back is never announced."""
    from django.db import transaction

    cookie = cookie_for(alice)

    def burst() -> list[str]:
        with transaction.atomic():  # one commit, as the group-commit writer makes
            refs = [new_ticket("other", subject=f"Burst {i}").reference for i in range(5)]
        try:
            with transaction.atomic():
                new_ticket("other", subject="Rolled back")
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        return refs

    async def scenario() -> None:
        ws = await opened(cookie)
        layer = live.get_layer()
        spy = await layer.new_channel()
        await layer.group_add("desk", spy)
        refs = await run_sync(burst)
        event = await asyncio.wait_for(layer.receive(spy), 3)
        assert [c["reference"] for c in event["changes"]] == refs
        got = [(await frame(ws))["reference"] for _ in refs]
        assert got == refs
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    run(scenario)


@pytest.mark.redis
def test_over_redis_nudges_and_presence_reach_the_other_agent(
    alice: Any, bob: Any, settings: Any, redis_url: str
) -> None:
    """Scale mode: the same socket over channels-redis (no bridge table)."""
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}
    }
    channel_layers.backends.clear()
    colleague = _make_user("bob@general.test", staff=True, teams=("general",))
    a_cookie, b_cookie, s_cookie = cookie_for(alice), cookie_for(colleague), cookie_for(bob)

    async def scenario() -> None:
        a, b, security = [await opened(c) for c in (a_cookie, b_cookie, s_cookie)]
        ticket = await run_sync(new_ticket, "other")
        secret = await run_sync(new_ticket, "unauthorised_tx")
        assert (await frame(a))["reference"] == ticket.reference
        assert {(await frame(security))["reference"] for _ in range(2)} == {
            ticket.reference,
            secret.reference,
        }
        watch = json.dumps({"type": "watch", "reference": ticket.reference})
        await a.send_to(text_data=watch)
        await b.send_to(text_data=watch)
        await frame_where(a, lambda f: f.get("viewers") == [{"name": "Bob", "typing": False}])
        assert await a.receive_nothing(timeout=0.3)  # never the Security desk's ticket
        for ws in (a, b, security):
            await ws.disconnect()
        await live.get_layer().flush()

    run(scenario)
