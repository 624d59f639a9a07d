"""What the agent's panel needs from the agent socket, through the real ASGI app: three server
gaps found while building the panel, fixed since (a customer's read receipt, an agent reply's
client_id, a waiting chat announced to every panel that may see it)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.chat.sockets import agent, customer, frames_until, quiet
from tests.chat.test_chat_socket import _fresh_loop, is_message, session_of, start  # noqa: F401
from walletdesk.chat import actions as chat
from walletdesk.chat.models import ChatAgent
from walletdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


async def _desk_on(session: str, reference: str) -> Any:
    desk = agent(session)
    await desk.connect()
    await frames_until(desk, lambda f: f["type"] == "hello")
    await desk.send_json_to({"type": "join", "reference": reference})
    await frames_until(desk, lambda f: is_message(f, seq=1))
    return desk


def test_the_customers_read_receipt_reaches_the_agent(alice: Any) -> None:
    chat_ = start(name="Ana")
    session = session_of(alice)

    async def run() -> list[dict[str, Any]]:
        desk = await _desk_on(session, chat_["reference"])
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        await sock.send_json_to({"type": "read", "seq": 1})
        try:
            return await frames_until(desk, lambda f: f["type"] == "read", timeout=2)
        finally:
            await sock.disconnect()
            await desk.disconnect()

    got = asyncio.run(run())
    assert got[-1] == {"type": "read", "author": "customer", "seq": 1, "reference": chat_["reference"]}


def test_an_agent_socket_reply_reaches_the_customer_with_its_client_id(alice: Any) -> None:
    chat_ = start(name="Ana")
    session = session_of(alice)

    async def run() -> dict[str, Any]:
        desk = await _desk_on(session, chat_["reference"])
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        await desk.send_json_to(
            {"type": "message", "reference": chat_["reference"], "client_id": "p-1", "body": "Hello"}
        )
        try:
            return (await frames_until(sock, lambda f: is_message(f, author="agent")))[-1]
        finally:
            await sock.disconnect()
            await desk.disconnect()

    live = asyncio.run(run())
    # A replay of the same message names it: the live copy must say the same (protocol §2).
    ticket_id = Ticket.objects.get(reference=chat_["reference"]).pk
    replayed = chat.after(ticket_id, live["seq"] - 1)[0]
    assert replayed["client_id"] == "p-1"
    assert live["client_id"] == "p-1"


def test_a_chat_that_waits_is_announced_to_online_agents(alice: Any) -> None:
    """Every online agent is full, so a new chat waits in line: an online panel hears of it (a
    `chat` frame), not only from the hello of its next connection."""
    ChatAgent.objects.create(user=alice, capacity=0)
    session = session_of(alice)

    async def run() -> list[dict[str, Any]]:
        desk = agent(session)
        await desk.connect()
        await frames_until(desk, lambda f: f["type"] == "hello")
        await desk.send_json_to({"type": "presence", "status": "online"})
        await frames_until(desk, lambda f: f["type"] == "presence")
        waiting = start(name="Li")  # on this thread: one database connection (tests/chat/sockets.py)
        try:
            return await frames_until(
                desk, lambda f: f["type"] == "chat" and f["reference"] == waiting["reference"], timeout=2
            )
        finally:
            await desk.disconnect()

    got = asyncio.run(run())
    assert got[-1]["status"] == "waiting"


def test_a_restricted_teams_waiting_chat_is_announced_only_to_its_members(alice: Any, bob: Any) -> None:
    """Alice (general) and Bob (security, restricted) are online and full; a chat routed to
    the security team waits: Bob's panel hears of it, Alice's never does."""
    from walletdesk.tickets.models import RoutingRule, Team

    security = Team.objects.get(slug="security")
    RoutingRule.objects.create(name="chats to security", channel="chat", team=security)
    for user in (alice, bob):
        ChatAgent.objects.create(user=user, capacity=0)
    sessions = session_of(alice), session_of(bob)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        desks = []
        for session in sessions:
            desk = agent(session)
            await desk.connect()
            await frames_until(desk, lambda f: f["type"] == "hello")
            await desk.send_json_to({"type": "presence", "status": "online"})
            await frames_until(desk, lambda f: f["type"] == "presence")
            desks.append(desk)
        waiting = start(name="Li")  # on this thread: one database connection (tests/chat/sockets.py)
        at_bob = await frames_until(
            desks[1], lambda f: f["type"] == "chat" and f["reference"] == waiting["reference"]
        )
        at_alice = await quiet(desks[0], 0.5)
        for desk in desks:
            await desk.disconnect()
        return at_alice, at_bob

    at_alice, at_bob = asyncio.run(run())
    assert at_bob[-1]["status"] == "waiting"
    assert not [f for f in at_alice if f["type"] == "chat"]
