"""Telegram through its real webhook: a bot's updates become one ticket per person, replies go
out through sendMessage/sendPhoto on a stand-in Bot API server, and forgeries store nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.connectors.standin import StandIn
from walletdesk.connectors.social.models import SocialAccount, SocialInbound, SocialOutbound
from walletdesk.tickets import actions
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-webhook-token_ABC"
BOT = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
# A checksum-valid phrase: the shield needs no cue around it.
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


@pytest.fixture
def api() -> Any:
    with StandIn(
        {
            f"/bot{BOT}/sendMessage": (200, {"ok": True, "result": {"message_id": 77}}),
            f"/bot{BOT}/sendPhoto": (200, {"ok": True, "result": {"message_id": 78}}),
            f"/bot{BOT}/getFile": (
                200,
                {"ok": True, "result": {"file_id": "F1", "file_path": "photos/f1.png"}},
            ),
            f"/file/bot{BOT}/photos/f1.png": (200, _png()),
        }
    ) as server:
        yield server


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def bot(api: StandIn) -> SocialAccount:
    call_command(
        "connect",
        "telegram",
        "--slug",
        "main",
        "--set",
        f"bot_token={BOT}",
        "--set",
        f"secret_token={SECRET}",
        "--set",
        f"api_base={api.base_url}",
    )
    return SocialAccount.objects.get(provider="telegram", slug="main")


def update(
    update_id: int, user_id: int, text: str = "", language: str = "zh-hans", **message: Any
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id * 10,
            "from": {"id": user_id, "is_bot": False, "first_name": "Wei", "language_code": language},
            "chat": {"id": user_id, "type": "private", "first_name": "Wei"},
            "date": 1765000000,
            **({"text": text} if text else {}),
            **message,
        },
    }


def push(client: Client, body: Any, secret: str | None = SECRET, slug: str = "main") -> Any:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(
        f"/hooks/telegram/{slug}", json.dumps(body), content_type="application/json", headers=headers
    )


def test_two_people_get_one_ticket_each_and_replies_thread(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any
) -> None:
    assert push(client, update(1, 1001, "我的转账一直没有到账")).status_code == 200
    assert push(client, update(2, 1002, "My swap is stuck", language="en")).status_code == 200
    assert push(client, update(3, 1001, "交易哈希稍后发")).status_code == 200
    tickets = Ticket.objects.filter(channel="telegram").order_by("pk")
    assert tickets.count() == 2
    first = tickets[0]
    assert [m.body for m in first.messages.order_by("pk")] == ["我的转账一直没有到账", "交易哈希稍后发"]
    # Each got the acknowledgement with the reference, through the bot.
    sent = api.requests_to(f"/bot{BOT}/sendMessage")
    assert {r.json()["chat_id"] for r in sent} == {"1001", "1002"}
    assert any(first.reference in r.json()["text"] for r in sent)
    # Wei wrote in Chinese with a Chinese Telegram: the acknowledgement is in Chinese.
    assert any(
        "工单编号" in r.json()["text"] and "免费" in r.json()["text"]
        for r in sent
        if r.json()["chat_id"] == "1001"
    )
    assert any("Your reference is" in r.json()["text"] for r in sent if r.json()["chat_id"] == "1002")
    # The agent's reply goes out to that person only.
    actions.add_agent_message(first, "请提供交易哈希。", agent=alice)
    last = api.requests_to(f"/bot{BOT}/sendMessage")[-1].json()
    assert last == {"chat_id": "1001", "text": "请提供交易哈希。"}
    assert SocialOutbound.objects.filter(ticket=first, kind="reply", state="sent").count() == 1


def test_a_replayed_update_creates_nothing_more(client: Client, bot: SocialAccount) -> None:
    body = update(5, 1001, "hello, my wallet is locked")
    for _ in range(3):
        assert push(client, body).status_code == 200
    assert Ticket.objects.filter(channel="telegram").count() == 1
    assert Message.objects.filter(channel="telegram").count() == 1
    assert SocialInbound.objects.count() == 1


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.upper()])
def test_a_bad_secret_is_refused_and_stores_nothing(
    client: Client, bot: SocialAccount, secret: str | None
) -> None:
    response = push(client, update(9, 1001, "hello"), secret=secret)
    assert response.status_code == 403
    assert not SocialInbound.objects.exists()
    assert not Ticket.objects.exists()


def test_unknown_or_inactive_channel_is_404(client: Client, bot: SocialAccount) -> None:
    assert push(client, update(9, 1001, "hello"), slug="other").status_code == 404
    bot.active = False
    bot.save()
    assert push(client, update(9, 1001, "hello")).status_code == 404
    assert not SocialInbound.objects.exists()


def test_a_recovery_phrase_anywhere_is_never_stored(client: Client, bot: SocialAccount) -> None:
    body = update(11, 1001, f"my words are {PHRASE} help")
    body["message"]["from"]["first_name"] = PHRASE
    assert push(client, body).status_code == 200
    ticket = Ticket.objects.get(channel="telegram")
    stored = " ".join([ticket.subject, ticket.contact.name, *(m.body for m in ticket.messages.all())])
    assert "sausage worth" not in stored
    assert "sausage worth" not in json.dumps(list(SocialInbound.objects.values()), default=str)
    assert ticket.team is not None and ticket.team.slug == "security"


def test_a_photo_is_fetched_and_attached(client: Client, bot: SocialAccount, api: StandIn) -> None:
    photo = [{"file_id": "small", "width": 90, "height": 90}, {"file_id": "F1", "width": 800, "height": 800}]
    assert push(client, update(12, 1001, photo=photo, caption="screenshot of the error")).status_code == 200
    ticket = Ticket.objects.get(channel="telegram")
    message = ticket.messages.get()
    assert message.body == "screenshot of the error"
    assert [a.content_type for a in message.attachments.all()] == ["image/png"]
    assert api.requests_to(f"/bot{BOT}/getFile")[0].json() == {"file_id": "F1"}


def test_a_provider_500_is_retried_then_sent(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any
) -> None:
    from walletdesk.connectors.social import outbound

    push(client, update(13, 1001, "hello there"))
    ticket = Ticket.objects.get(channel="telegram")
    api.routes[f"/bot{BOT}/sendMessage"] = [
        (502, "bad gateway"),
        (429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 7}}),
        (200, {"ok": True, "result": {"message_id": 99}}),
    ]
    actions.add_agent_message(ticket, "We are looking.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "retry" and row.attempts == 1
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk).startswith("retry in")
    row.refresh_from_db()
    assert row.attempts == 2 and "429" in row.last_error
    assert row.next_attempt_at is not None and (row.next_attempt_at - row.created_at).total_seconds() >= 7
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk) == "sent"
    row.refresh_from_db()
    assert row.state == "sent" and row.provider_message_id == "99"


def test_an_agents_picture_goes_out_by_send_photo(
    client: Client, bot: SocialAccount, api: StandIn, alice: Any
) -> None:
    from walletdesk.tickets.files import check_file

    push(client, update(14, 1001, "where is the export button?"))
    ticket = Ticket.objects.get(channel="telegram")
    actions.add_agent_message(
        ticket, "It is here, top right.", agent=alice, attachments=[check_file("where.png", _png())]
    )
    sent = api.requests_to(f"/bot{BOT}/sendPhoto")
    assert len(sent) == 1
    body = sent[0].body
    assert sent[0].headers["content-type"].startswith("multipart/form-data")
    assert b'name="chat_id"' in body and b"1001" in body
    assert b"It is here, top right." in body and _png() in body
    # The caption carried the text: no separate sendMessage for this reply.
    assert not any("top right" in r.json()["text"] for r in api.requests_to(f"/bot{BOT}/sendMessage"))
