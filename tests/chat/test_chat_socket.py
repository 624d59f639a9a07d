"""Live chat through the real ASGI app (Channels' WebsocketCommunicator): the protocol of
docs/chat-protocol.md as a customer, an agent, and someone who is neither would use it.

Personas: a guest customer ("Ana", no account), alice (agent, general team), bob (agent,
security team), carol (a signed-in customer).
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest
from django.test import Client

from tests.chat.sockets import agent, customer, frames_until, inline_sync_work, quiet
from tests.conftest import client_for
from walletdesk.chat import actions as chat
from walletdesk.chat.models import ChatAgent, Conversation, State
from walletdesk.core import live
from walletdesk.tickets.models import AuthorRole, Message, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


@pytest.fixture(autouse=True)
def _fresh_loop(monkeypatch: pytest.MonkeyPatch) -> Any:
    inline_sync_work(monkeypatch)
    yield
    live.reset_for_tests()
    # A cancelled consumer task can leave a cursor unreferenced but not yet finalised, its
    # shared-cache table lock held; collected now, before the transactional test's flush.
    gc.collect()


def start(client: Client | None = None, **payload: Any) -> dict[str, Any]:
    response = (client or Client()).post(
        "/api/v1/chat/conversations", json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def session_of(user: Any) -> str:
    return client_for(user).cookies["sessionid"].value


def is_message(frame: dict[str, Any], **fields: Any) -> bool:
    return frame["type"] == "message" and all(frame.get(k) == v for k, v in fields.items())


def test_a_guest_chats_and_every_message_is_stored_once_and_replayed_once() -> None:
    chat_ = start(name="Ana", language="en")
    assert chat_["ws_url"].startswith(f"/ws/chat/{chat_['reference']}/?t=")
    assert "never ask" in chat_["notice"]
    assert chat_["status"] == "offline" and chat_["reply_by"]

    async def run() -> None:
        sock = customer(chat_["ws_url"])
        connected, _ = await sock.connect()
        assert connected
        hello, notice = await frames_until(sock, lambda f: f["type"] == "message")
        assert hello["type"] == "hello" and hello["reference"] == chat_["reference"]
        assert notice["seq"] == 1 and notice["author"] == "system" and "never ask" in notice["body"]

        await sock.send_json_to({"type": "message", "client_id": "c-1", "body": "My transfer is stuck"})
        ack = (await frames_until(sock, lambda f: is_message(f, client_id="c-1")))[-1]
        assert ack["seq"] == 2 and ack["author"] == "customer" and ack["author_name"] == "Ana"
        # The same client_id again (a resend after a lost ack): stored once, answered with the
        # stored frame (its ack), nothing new.
        await sock.send_json_to({"type": "message", "client_id": "c-1", "body": "My transfer is stuck"})
        again_ack = [f for f in await quiet(sock) if f["type"] == "message"]
        assert again_ack == [ack]
        await sock.disconnect()

        # Reconnect with the last seq it had before the ack: the ack's message comes once.
        again = customer(chat_["ws_url"], after=1)
        await again.connect()
        got = await frames_until(again, lambda f: is_message(f, client_id="c-1"))
        assert [f["seq"] for f in got if f["type"] == "message"] == [2]
        assert [f for f in await quiet(again) if f["type"] == "message"] == []
        await again.disconnect()

    asyncio.run(run())
    ticket = Ticket.objects.get(reference=chat_["reference"])
    assert ticket.channel == "chat"
    assert list(ticket.messages.filter(author_role=AuthorRole.CUSTOMER).values_list("body", flat=True)) == [
        "My transfer is stuck"
    ]


def test_a_recovery_phrase_never_reaches_the_agent_or_the_database(alice: Any) -> None:
    chat_ = start(name="Ana")
    ChatAgent.objects.create(user=alice)
    session = session_of(alice)

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        desk = agent(session)
        assert (await desk.connect())[0]
        await frames_until(desk, lambda f: f["type"] == "hello")
        await desk.send_json_to({"type": "join", "reference": chat_["reference"]})
        await frames_until(desk, lambda f: is_message(f, seq=1))
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await sock.send_json_to({"type": "message", "client_id": "p-1", "body": f"my words are {PHRASE}"})
        ack = (await frames_until(sock, lambda f: is_message(f, client_id="p-1")))[-1]
        seen = (await frames_until(desk, lambda f: is_message(f, client_id="p-1")))[-1]
        await sock.disconnect()
        await desk.disconnect()
        return ack, seen

    ack, seen = asyncio.run(run())
    assert "sausage" not in ack["body"] and ack["removed"]
    assert "sausage" not in seen["body"] and seen["reference"] == chat_["reference"]
    assert not Message.objects.filter(body__contains="sausage").exists()


def test_a_wrong_or_borrowed_credential_is_refused() -> None:
    mine, theirs = start(name="Ana"), start(name="Eve")
    borrowed = theirs["ws_url"].replace(theirs["reference"], mine["reference"])

    async def run(path: str) -> Any:
        sock = customer(path)
        await sock.connect()
        output = await sock.receive_output(timeout=2)
        await sock.wait()
        return output

    for path in (borrowed, mine["ws_url"].split("?t=")[0] + "?t=forged", f"/ws/chat/{mine['reference']}/"):
        closed = asyncio.run(run(path))
        assert closed == {"type": "websocket.close", "code": 4401}, path
    # A rotated key revokes every link handed out.
    Conversation.objects.filter(ticket__reference=mine["reference"]).update(key="rotated")
    assert asyncio.run(run(mine["ws_url"]))["code"] == 4401


def test_the_agent_socket_refuses_customers_strangers_and_foreign_pages(alice: Any, carol: Any) -> None:
    async def closed(session: str | None, origin: str = "http://127.0.0.1:8000") -> Any:
        sock = agent(session, origin=origin)
        await sock.connect()
        output = await sock.receive_output(timeout=2)
        return output

    assert asyncio.run(closed(None))["code"] == 4403
    assert asyncio.run(closed(session_of(carol)))["code"] == 4403
    # The agent's own cookie, sent by another site's page (cross-site websocket hijacking).
    assert asyncio.run(closed(session_of(alice), origin="https://evil.example"))["code"] == 4403


def test_an_agent_of_another_team_cannot_join_a_restricted_chat(alice: Any, bob: Any) -> None:
    from walletdesk.tickets.models import Team

    chat_ = start(name="Ana")
    Ticket.objects.filter(reference=chat_["reference"]).update(team=Team.objects.get(slug="security"))
    assert Team.objects.get(slug="security").restricted
    session = session_of(alice)

    async def run() -> list[dict[str, Any]]:
        desk = agent(session)
        await desk.connect()
        await frames_until(desk, lambda f: f["type"] == "hello")
        await desk.send_json_to({"type": "join", "reference": chat_["reference"]})
        await desk.send_json_to(
            {"type": "message", "reference": chat_["reference"], "client_id": "x", "body": "hi"}
        )
        got = await frames_until(desk, lambda f: f["type"] == "error" and f.get("client_id") == "x")
        got += await quiet(desk)
        await desk.disconnect()
        return got

    got = asyncio.run(run())
    assert [f["code"] for f in got if f["type"] == "error"] == ["not_found", "not_found"]
    assert not [f for f in got if f["type"] == "message"]
    assert not Message.objects.filter(ticket__reference=chat_["reference"], body="hi").exists()


def test_an_agent_reply_through_the_rest_api_reaches_the_open_socket(alice: Any) -> None:
    chat_ = start(name="Ana")
    desk_client = client_for(alice)

    async def run() -> dict[str, Any]:
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        loop = asyncio.get_running_loop()
        from walletdesk.core.asgi import run_sync

        response = await run_sync(
            lambda: desk_client.post(
                f"/api/v1/tickets/{chat_['reference']}/messages",
                json.dumps({"body": "Hello Ana, I am looking at it."}),
                content_type="application/json",
            )
        )
        assert response.status_code in (200, 201), response.content
        started = loop.time()
        got = await frames_until(sock, lambda f: is_message(f, author="agent"), timeout=1.0)
        assert loop.time() - started < 1.0
        # Answered from the API, the chat is Alice's now: no more "nobody is online".
        assert {"name": "Alice"} in [f.get("agent") for f in got if f["type"] == "status"]
        await sock.disconnect()
        return got[-1]

    reply = asyncio.run(run())
    assert reply["body"] == "Hello Ana, I am looking at it." and reply["seq"] == 2
    assert reply["author_name"] == "Alice" and "@" not in reply["author_name"]


def test_routing_gives_chats_to_online_agents_up_to_their_capacity(alice: Any) -> None:
    ChatAgent.objects.create(user=alice, capacity=1)
    chat.set_presence(alice, "online")
    first = start(name="Ana")
    second = start(name="Ben")
    assert first["status"] == "assigned" and first["agent"] == {"name": "Alice"}
    assert second["status"] == "queued" and second["queue_position"] == 1
    assert Ticket.objects.get(reference=first["reference"]).assignee == alice

    # Ending the first frees the slot: the line moves.
    chat.end_conversation(Ticket.objects.get(reference=first["reference"]).pk, by="agent", actor=alice)
    moved = Conversation.objects.get(ticket__reference=second["reference"])
    assert moved.state == State.ACTIVE and moved.agent == alice

    chat.set_presence(alice, "away")
    third = start(name="Cy")
    assert third["status"] == "offline" and third["queue_position"] is None


def test_an_unanswered_chat_stays_an_open_ticket_and_tells_its_reference() -> None:
    chat_ = start(name="Ana", email="ana@example.com")

    async def run() -> list[dict[str, Any]]:
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        await sock.send_json_to({"type": "end"})
        got = await frames_until(sock, lambda f: f["type"] == "ended")
        got += await quiet(sock)
        await sock.send_json_to({"type": "message", "client_id": "late", "body": "hello?"})
        got += await frames_until(sock, lambda f: f["type"] == "error")
        await sock.disconnect()
        return got

    got = asyncio.run(run())
    ended = next(f for f in got if f["type"] == "ended")
    assert ended == {"type": "ended", "reference": chat_["reference"], "answered": False, "csat_url": None}
    told = [f for f in got if f["type"] == "message" and f["author"] == "system"]
    assert told and chat_["reference"] in told[-1]["body"]
    assert got[-1]["code"] == "ticket_closed" and got[-1]["client_id"] == "late"
    ticket = Ticket.objects.get(reference=chat_["reference"])
    assert ticket.status in (Status.NEW, Status.OPEN)


def test_typing_and_read_receipts_cross_but_carry_no_text(alice: Any) -> None:
    chat_ = start(name="Ana")
    session = session_of(alice)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        desk = agent(session)
        await desk.connect()
        await frames_until(desk, lambda f: f["type"] == "hello")
        await desk.send_json_to({"type": "join", "reference": chat_["reference"]})
        await frames_until(desk, lambda f: is_message(f, seq=1))
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        await sock.send_json_to({"type": "typing", "typing": True, "body": "draft text"})
        at_desk = await frames_until(desk, lambda f: f["type"] == "typing")
        await desk.send_json_to({"type": "read", "reference": chat_["reference"], "seq": 1})
        at_customer = await frames_until(sock, lambda f: f["type"] == "read")
        await desk.send_json_to({"type": "typing", "reference": chat_["reference"], "typing": True})
        at_customer += await frames_until(sock, lambda f: f["type"] == "typing")
        await sock.disconnect()
        await desk.disconnect()
        return at_desk, at_customer

    at_desk, at_customer = asyncio.run(run())
    assert at_desk[-1] == {
        "type": "typing",
        "author": "customer",
        "name": "",
        "typing": True,
        "reference": chat_["reference"],
    }
    assert "draft" not in json.dumps(at_desk)
    assert {"type": "read", "author": "agent", "seq": 1} in at_customer
    assert at_customer[-1]["name"] == "Alice" and at_customer[-1]["author"] == "agent"


def test_bad_frames_get_clear_errors_and_store_nothing() -> None:
    chat_ = start(name="Ana")

    async def run() -> list[dict[str, Any]]:
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        got = []
        for frame in (
            "not json",
            json.dumps([1, 2]),
            json.dumps({"type": "teleport"}),
            json.dumps({"type": "message", "body": "no id"}),
            json.dumps({"type": "message", "client_id": "a" * 65, "body": "long id"}),
            json.dumps({"type": "message", "client_id": "e1", "body": "   "}),
            json.dumps({"type": "message", "client_id": "e2", "body": "x" * 20_001}),
        ):
            await sock.send_to(text_data=frame)
            got += await frames_until(sock, lambda f: f["type"] == "error")
        await sock.send_to(text_data="x" * (64 * 1024 + 1))
        got.append(await sock.receive_output(timeout=2))
        return got

    got = asyncio.run(run())
    codes = [f.get("code") for f in got[:-1]]
    assert codes == ["bad_frame", "bad_frame", "bad_frame", "bad_frame", "bad_frame", "required", "too_long"]
    assert got[-1] == {"type": "websocket.close", "code": 1009}
    assert not Message.objects.filter(ticket__reference=chat_["reference"], author_role="customer").exists()


def test_a_chat_left_open_is_ended_when_idle_and_frees_the_agent(alice: Any, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    ChatAgent.objects.create(user=alice, capacity=1)
    chat.set_presence(alice, "online")
    left = start(name="Ana")
    waiting = start(name="Ben")
    assert (left["status"], waiting["status"]) == ("assigned", "queued")
    assert chat.end_idle() == 0  # nothing idle yet
    Ticket.objects.filter(reference=left["reference"]).update(
        updated_at=timezone.now() - timedelta(minutes=settings.CHAT_IDLE_MINUTES + 1)
    )
    assert chat.end_idle() == 1
    assert Conversation.objects.get(ticket__reference=left["reference"]).state == State.ENDED
    assert Conversation.objects.get(ticket__reference=waiting["reference"]).agent == alice


def test_an_agent_socket_reply_reaches_the_customer_with_its_client_id_once(alice: Any) -> None:
    chat_ = start(name="Ana")
    session = session_of(alice)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        desk = agent(session)
        await desk.connect()
        await frames_until(desk, lambda f: f["type"] == "hello")
        await desk.send_json_to({"type": "join", "reference": chat_["reference"]})
        await frames_until(desk, lambda f: is_message(f, seq=1))
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        reply = {"type": "message", "reference": chat_["reference"], "client_id": "a-1", "body": "On it."}
        await desk.send_json_to(reply)
        at_desk = await frames_until(desk, lambda f: is_message(f, client_id="a-1"))
        await desk.send_json_to(reply)  # resent: stored once, not sent again
        at_desk += await quiet(desk)
        at_customer = await frames_until(sock, lambda f: is_message(f, client_id="a-1"))
        at_customer += await quiet(sock)
        await sock.disconnect()
        await desk.disconnect()
        return at_desk, at_customer

    at_desk, at_customer = asyncio.run(run())
    assert [f["seq"] for f in at_desk if f["type"] == "message"] == [2]
    assert [(f["seq"], f["author"]) for f in at_customer if f["type"] == "message"] == [(2, "agent")]
    assert Message.objects.filter(ticket__reference=chat_["reference"], body="On it.").count() == 1


def test_a_shared_phrase_takes_the_chat_from_an_agent_who_may_no_longer_see_it(alice: Any, bob: Any) -> None:
    """Ana pastes her phrase while chatting with Alice (general): the ticket moves to the
    Security desk (restricted); Alice's socket loses the chat, Bob (security) gets it."""
    for user in (alice, bob):
        ChatAgent.objects.create(user=user, capacity=3)
    chat.set_presence(alice, "online")
    chat_ = start(name="Ana")
    assert chat_["agent"] == {"name": "Alice"}
    chat.set_presence(bob, "online")
    session = session_of(alice)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        desk = agent(session)
        await desk.connect()
        await frames_until(desk, lambda f: f["type"] == "hello")
        await desk.send_json_to({"type": "join", "reference": chat_["reference"]})
        await frames_until(desk, lambda f: is_message(f, seq=1))
        sock = customer(chat_["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: is_message(f, seq=1))
        await sock.send_json_to({"type": "message", "client_id": "s-1", "body": PHRASE})
        at_customer = await frames_until(
            sock, lambda f: f["type"] == "status" and f["agent"] == {"name": "Bob"}
        )
        at_desk = await frames_until(
            desk, lambda f: f["type"] == "error" and f.get("reference") == chat_["reference"]
        )
        await sock.send_json_to({"type": "message", "client_id": "s-2", "body": "hello?"})
        await frames_until(sock, lambda f: is_message(f, client_id="s-2"))
        at_desk += await quiet(desk, 0.5)
        await sock.disconnect()
        await desk.disconnect()
        return at_customer, at_desk

    at_customer, at_desk = asyncio.run(run())
    assert at_customer[-1]["status"] == "assigned"  # Ana sees she is now with Bob
    assert not [f for f in at_desk if f["type"] == "message" and f.get("client_id") == "s-2"]
    conversation = Conversation.objects.get(ticket__reference=chat_["reference"])
    assert conversation.agent == bob and conversation.ticket.team.slug == "security"
