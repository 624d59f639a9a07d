"""Weibo (粉丝服务平台) through its real webhook: the URL verification with Weibo's own worked
example, signed pushes that become one ticket per person, customer-service replies out through a
stand-in Weibo API, and forgeries, stale signatures and replays that store nothing."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from tests.connectors.standin import Recorded, StandIn
from walletdesk.connectors.social import outbound
from walletdesk.connectors.social.models import SocialAccount, SocialInbound, SocialOutbound
from walletdesk.tickets import actions
from walletdesk.tickets.actions import TicketError
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

APP_KEY = "3976541296"
APP_SECRET = "c7e1a8f0b5d2e94a3f6b0c8d1e7a2f45"
TOKEN = "2.00ABCdefGHIjkl_weibo_fans_token"
OWN = 1902538057  # the wallet's blue-V account (receiver_id)
LIN, MEI = 2489518277, 2489518299
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
REPLY = "/2/messages/reply.json"


def _ok(sender: int = OWN) -> tuple[int, Any]:
    return (200, {"result": True, "sender_id": str(sender), "type": "text"})


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def api() -> Any:
    with StandIn({REPLY: _ok(), "/2/mss/msget": (200, _png(), {"Content-Type": "image/png"})}) as server:
        yield server


@pytest.fixture
def account(api: StandIn) -> SocialAccount:
    call_command(
        "connect",
        "weibo",
        "--slug",
        "fans",
        "--set",
        f"app_key={APP_KEY}",
        "--set",
        f"app_secret={APP_SECRET}",
        "--set",
        f"access_token={TOKEN}",
        "--set",
        f"api_base={api.base_url}",
    )
    return SocialAccount.objects.get(provider="weibo", slug="fans")


# --- the documented formats ---------------------------------------------------------------------


def message(
    sender: int,
    text: str,
    *,
    kind: str = "text",
    created: str = "Mon Dec 07 16:09:20 +0800 2026",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A push as 消息推送服务 documents it."""
    return {
        "type": kind,
        "receiver_id": OWN,
        "sender_id": sender,
        "created_at": created,
        "text": text,
        "data": data or {},
    }


def signed(secret: str = APP_SECRET, timestamp: str | None = None, nonce: str = "57155157") -> dict[str, str]:
    """signature = sha1 of the app secret, timestamp and nonce sorted and concatenated."""
    stamp = timestamp or str(int(time.time() * 1000))
    digest = hashlib.sha1("".join(sorted([secret, stamp, nonce])).encode()).hexdigest()
    return {"signature": digest, "timestamp": stamp, "nonce": nonce}


def push(client: Client, payload: Any, query: dict[str, str] | None = None, slug: str = "fans") -> Any:
    params = signed() if query is None else query
    body = json.dumps(payload, ensure_ascii=False).encode()
    return client.post(f"/hooks/weibo/{slug}?{urlencode(params)}", body, content_type="application/json")


def form(request: Recorded) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def replies_to(api: StandIn, uid: int) -> list[dict[str, str]]:
    return [f for f in map(form, api.requests_to(REPLY)) if f["receiver_id"] == str(uid)]


# --- the tests ----------------------------------------------------------------------------------


def test_url_verification_with_weibos_own_example(client: Client, api: StandIn) -> None:
    # The worked example in Weibo's guide: appsecret xyz123xyz, timestamp 1397022061823,
    # nonce 57155157 -> 90e4c22c90a58f26526c2dd5b6c56c8822edeaa1.
    call_command("connect", "weibo", "--slug", "doc", "--set", "app_key=1", "--set", "app_secret=xyz123xyz",
                 "--set", "access_token=t")  # fmt: skip
    query = {
        "signature": "90e4c22c90a58f26526c2dd5b6c56c8822edeaa1",
        "timestamp": "1397022061823",
        "nonce": "57155157",
        "echostr": "bMR6aeDQ8L",
    }
    response = client.get("/hooks/weibo/doc", query)
    assert response.status_code == 200 and response.content == b"bMR6aeDQ8L"
    forged = client.get("/hooks/weibo/doc", {**query, "nonce": "57155158"})
    assert forged.status_code == 403 and b"bMR6aeDQ8L" not in forged.content


def test_two_people_get_one_ticket_each_and_the_reply_reaches_only_its_person(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    assert push(client, message(LIN, "我的提币一直在处理中")).status_code == 200
    assert push(client, message(MEI, "My balance shows zero")).status_code == 200
    later = "Mon Dec 07 16:10:02 +0800 2026"
    response = push(client, message(LIN, "交易哈希是 0xabc", created=later))
    assert response.status_code == 200 and response.content == b""  # no passive reply, no retry
    lin_ticket, mei_ticket = Ticket.objects.filter(channel="weibo").order_by("pk")
    assert [m.body for m in lin_ticket.messages.order_by("pk")] == [
        "我的提币一直在处理中",
        "交易哈希是 0xabc",
    ]
    assert [m.body for m in mei_ticket.messages.all()] == ["My balance shows zero"]
    # Each got the acknowledgement with their own reference.
    assert [lin_ticket.reference in json.loads(f["data"])["text"] for f in replies_to(api, LIN)] == [True]
    assert [mei_ticket.reference in json.loads(f["data"])["text"] for f in replies_to(api, MEI)] == [True]

    actions.add_agent_message(lin_ticket, "请把交易哈希发给我们。", agent=alice)
    assert len(replies_to(api, MEI)) == 1
    sent = api.requests_to(REPLY)[-1]
    assert sent.method == "POST"
    assert sent.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert form(sent) == {
        "access_token": TOKEN,
        "type": "text",
        "data": json.dumps({"text": "请把交易哈希发给我们。"}, ensure_ascii=False),
        "receiver_id": str(LIN),
        "save_sender_box": "1",
    }
    assert SocialOutbound.objects.get(ticket=lin_ticket, kind="reply").state == "sent"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {k: v for k, v in signed().items() if k != "signature"},
        {**signed(), "signature": "0" * 40},
        signed(secret="another-apps-secret"),
        {**signed(), "nonce": "99999999"},  # signature of another nonce
        signed(timestamp=str(int((time.time() - 3600) * 1000))),  # an hour-old signed URL, replayed
        signed(timestamp=str(int(time.time()) - 3600)),  # the same in seconds
        signed(timestamp="not-a-time"),
    ],
)
def test_a_push_without_a_valid_fresh_signature_is_refused_and_stores_nothing(
    client: Client, account: SocialAccount, api: StandIn, query: dict[str, str]
) -> None:
    response = push(client, message(LIN, "hello"), query=query)
    assert response.status_code == 403
    assert not SocialInbound.objects.exists()
    assert not Ticket.objects.exists()
    assert not api.requests


def test_a_replayed_push_creates_nothing_more(client: Client, account: SocialAccount, api: StandIn) -> None:
    body = message(LIN, "你好，我的钱包被锁了")
    for _ in range(3):  # Weibo retries a push it got no answer to within 5 seconds, 3 times
        assert push(client, body).status_code == 200
    follow = message(LIN, "关注事件", kind="event", data={"subtype": "follow", "key": "", "ticket": ""})
    for _ in range(2):
        assert push(client, follow).status_code == 200
    assert Ticket.objects.filter(channel="weibo").count() == 1
    assert Message.objects.filter(channel="weibo").count() == 1
    assert set(SocialInbound.objects.values_list("kind", "event")) == {("message", ""), ("event", "follow")}
    assert len(replies_to(api, LIN)) == 1  # one acknowledgement


def test_two_different_messages_in_the_same_second_are_both_kept(
    client: Client, account: SocialAccount
) -> None:
    # Weibo's created_at has one-second resolution; its documented key alone would drop one.
    assert push(client, message(LIN, "第一句")).status_code == 200
    assert push(client, message(LIN, "第二句")).status_code == 200
    ticket = Ticket.objects.get(channel="weibo")
    assert [m.body for m in ticket.messages.order_by("pk")] == ["第一句", "第二句"]


def test_a_recovery_phrase_in_any_field_is_never_stored(client: Client, account: SocialAccount) -> None:
    assert push(client, message(LIN, f"客服让我提供助记词 {PHRASE}")).status_code == 200
    event = message(LIN, PHRASE, kind="event", data={"subtype": PHRASE, "key": PHRASE})
    assert push(client, event).status_code == 200
    odd = message(MEI, "hi", created=PHRASE)
    assert push(client, odd).status_code == 200
    dump = json.dumps(list(SocialInbound.objects.values()), default=str)
    assert "sausage worth" not in dump
    for ticket in Ticket.objects.filter(channel="weibo"):
        stored = " ".join([ticket.subject, ticket.contact.name, *(m.body for m in ticket.messages.all())])
        assert "sausage worth" not in stored
    assert Ticket.objects.filter(channel="weibo", team__slug="security").exists()


def test_a_picture_is_downloaded_and_attached(client: Client, account: SocialAccount, api: StandIn) -> None:
    image = message(LIN, "发了一张图片", kind="image", data={"vfid": 821804459, "tovfid": 821804469})
    assert push(client, image).status_code == 200
    attached = Ticket.objects.get(channel="weibo").messages.get().attachments.all()
    assert [a.content_type for a in attached] == ["image/png"]
    fetched = api.requests_to("/2/mss/msget")
    assert len(fetched) == 1 and fetched[0].query == {"access_token": [TOKEN], "fid": ["821804469"]}


def test_a_provider_5xx_and_a_rate_limit_are_retried_then_sent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, message(LIN, "hello there"))
    ticket = Ticket.objects.get(channel="weibo")
    api.routes[REPLY] = [
        (502, "bad gateway"),
        (403, {"error_code": 10023, "error": "User requests out of rate limit!", "request": REPLY}),
        _ok(),
    ]
    actions.add_agent_message(ticket, "We are checking.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "retry" and row.attempts == 1 and "502" in row.last_error
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk).startswith("retry in")
    row.refresh_from_db()
    assert row.attempts == 2 and "10023" in row.last_error
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk) == "sent"
    texts = [json.loads(f["data"])["text"] for f in replies_to(api, LIN)]
    assert texts[-3:] == ["We are checking."] * 3


def test_an_expired_token_fails_at_once_and_the_agent_is_told(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, message(LIN, "hello there"))
    ticket = Ticket.objects.get(channel="weibo")
    api.routes[REPLY] = (400, {"error_code": 21327, "error": "expired_token", "request": REPLY})
    actions.add_agent_message(ticket, "Hello?", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "failed" and "21327" in row.last_error
    ticket.refresh_from_db()
    assert any(flag.get("code") == "social_undelivered" for flag in ticket.flags)


def test_a_reply_after_48_hours_is_refused_before_it_is_sent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, message(LIN, "hello there"))
    ticket = Ticket.objects.get(channel="weibo")
    Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=timezone.now() - timedelta(hours=49))
    ticket.refresh_from_db()
    before = len(api.requests_to(REPLY))
    with pytest.raises(TicketError) as refused:
        actions.add_agent_message(ticket, "Sorry for the wait.", agent=alice)
    assert refused.value.code == "outside_reply_window" and "48" in refused.value.message
    assert len(api.requests_to(REPLY)) == before
    assert not ticket.messages.filter(body="Sorry for the wait.").exists()
    # The desk in Chinese gives the reason in Chinese.
    with translation.override("zh-hans"), pytest.raises(TicketError) as refused:
        actions.add_agent_message(ticket, "抱歉久等了。", agent=alice)
    assert "48 小时" in refused.value.message


def test_a_long_reply_goes_out_in_parts_weibo_accepts(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, message(LIN, "hello there"))
    ticket = Ticket.objects.get(channel="weibo")
    long_text = "步骤说明。" * 130  # 650 characters; Weibo takes at most 300 per message
    actions.add_agent_message(ticket, long_text, agent=alice)
    parts = [json.loads(f["data"])["text"] for f in replies_to(api, LIN)][1:]
    assert "".join(parts) == long_text and all(len(p) <= 300 for p in parts) and len(parts) == 3
