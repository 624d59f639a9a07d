"""WeChat through its real webhook, with pushes signed (and, in safe mode, encrypted) as
WeChat's servers do: verification, text, image and event messages into one ticket per
person, exactly once; forgeries, wrong keys and XML attacks store nothing."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.connectors.standin import StandIn
from tests.connectors.wechat import wx
from tests.connectors.wechat.conftest import CUSTOM, png, push
from walletdesk.connectors.social.models import SocialAccount, SocialInbound
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def verify(client: Client, params: dict[str, str], slug: str = "main") -> Any:
    return client.get(f"/hooks/wechat/{slug}?{urlencode(params)}")


def nothing_stored() -> bool:
    return not SocialInbound.objects.exists() and not Ticket.objects.exists()


# --- URL verification (GET) -------------------------------------------------------------------


def test_url_verification_echoes_echostr_only_when_signed(client: Client, account: SocialAccount) -> None:
    params = {**wx.query(), "echostr": "5837397520597224155"}
    response = verify(client, params)
    assert response.status_code == 200 and response.content == b"5837397520597224155"
    forged = {**wx.query("another-token"), "echostr": "5837397520597224155"}
    assert verify(client, forged).status_code == 403
    assert verify(client, {"echostr": "1"}).status_code == 403


def test_safe_mode_verification_answers_the_decrypted_echostr(
    client: Client, safe_account: SocialAccount
) -> None:
    echostr = wx.encrypt(b"7312085361949812716")
    params = wx.query()
    params.update(
        echostr=echostr, msg_signature=wx.sign(wx.TOKEN, params["timestamp"], params["nonce"], echostr)
    )
    response = verify(client, params, slug="safe")
    assert response.status_code == 200 and response.content == b"7312085361949812716"
    # The echostr of another app (same key), or a msg_signature that does not cover it: refused.
    other = wx.encrypt(b"7312085361949812716", app_id="wx0000000000000000")
    params.update(echostr=other, msg_signature=wx.sign(wx.TOKEN, params["timestamp"], params["nonce"], other))
    assert verify(client, params, slug="safe").status_code == 403
    params.update(echostr=echostr)
    assert verify(client, params, slug="safe").status_code == 403


# --- messages in ------------------------------------------------------------------------------


def test_text_becomes_one_ticket_per_person_and_is_answered_success(
    client: Client, account: SocialAccount, api: StandIn
) -> None:
    started = time.monotonic()
    response = push(client, wx.text("我的USDT转账一直没有到账", 6054768590064713728))
    assert time.monotonic() - started < 5  # WeChat retries a push not answered within 5 s
    assert response.status_code == 200 and response.content == b"success"
    push(client, wx.text("Swap stuck for an hour", 6054768590064713729, sender="oOtherUser_Kd8"))
    push(client, wx.text("交易哈希稍后发", 6054768590064713730))
    tickets = Ticket.objects.filter(channel="wechat").order_by("pk")
    assert tickets.count() == 2
    assert [m.body for m in tickets[0].messages.order_by("pk")] == [
        "我的USDT转账一直没有到账",
        "交易哈希稍后发",
    ]
    assert tickets[0].language == "zh-hans"
    # The acknowledgement went out through the customer-service API with the fetched token,
    # as UTF-8 (WeChat would show \u escapes literally).
    acks = api.requests_to(CUSTOM)
    assert {r.json()["touser"] for r in acks} == {wx.OPENID, "oOtherUser_Kd8"}
    assert all(r.query["access_token"] == ["ACCESS_TOKEN_1"] for r in acks)
    first = next(r for r in acks if r.json()["touser"] == wx.OPENID)
    assert first.json()["msgtype"] == "text" and tickets[0].reference in first.json()["text"]["content"]
    assert "我们".encode() in first.body or "已收到".encode() in first.body
    token_calls = api.requests_to("/cgi-bin/token")
    assert len(token_calls) == 1
    assert token_calls[0].query == {
        "grant_type": ["client_credential"],
        "appid": [wx.APP_ID],
        "secret": [wx.APP_SECRET],
    }


def test_safe_mode_push_is_decrypted_and_checked(client: Client, safe_account: SocialAccount) -> None:
    params, body = wx.safe(wx.text("钱包余额显示为零", 6054768590064713800))
    response = push(client, body, params, slug="safe")
    assert response.status_code == 200 and response.content == b"success"
    ticket = Ticket.objects.get(channel="wechat")
    assert ticket.messages.get().body == "钱包余额显示为零"


def test_a_replayed_msgid_creates_no_duplicate(client: Client, account: SocialAccount) -> None:
    body = wx.text("hello, my wallet is locked", 6054768590064713731)
    for _ in range(4):  # WeChat's own three retries, and an attacker's replay
        assert push(client, body).content == b"success"
    assert Ticket.objects.filter(channel="wechat").count() == 1
    assert Message.objects.filter(channel="wechat").count() == 1
    assert SocialInbound.objects.count() == 1


def test_events_are_recorded_once_by_sender_and_time_and_make_no_ticket(
    client: Client, account: SocialAccount
) -> None:
    now = int(time.time())
    for _ in range(2):
        assert push(client, wx.event("subscribe", now)).content == b"success"
    assert push(client, wx.event("CLICK", now + 1, key="V1001_HELP")).content == b"success"
    assert push(client, wx.event("unsubscribe", now + 2)).content == b"success"
    rows = list(SocialInbound.objects.order_by("pk").values_list("provider_id", "kind", "event"))
    assert rows == [
        (f"{wx.OPENID}:{now}", "event", "subscribe"),
        (f"{wx.OPENID}:{now + 1}", "event", "CLICK:V1001_HELP"),
        (f"{wx.OPENID}:{now + 2}", "event", "unsubscribe"),
    ]
    assert not Ticket.objects.exists()


def test_an_image_is_fetched_through_the_media_api(
    client: Client, account: SocialAccount, api: StandIn
) -> None:
    body = wx.image("http://mmbiz.qpic.cn/mmbiz_jpg/abc/0", "MEDIA_ID_F1", 6054768590064713732)
    assert push(client, body).content == b"success"
    message = Ticket.objects.get(channel="wechat").messages.get()
    assert [a.content_type for a in message.attachments.all()] == ["image/png"]
    fetched = api.requests_to("/cgi-bin/media/get")
    assert fetched[0].query == {"media_id": ["MEDIA_ID_F1"], "access_token": ["ACCESS_TOKEN_1"]}


def test_an_image_whose_media_api_fails_is_taken_only_from_a_wechat_host(
    client: Client, account: SocialAccount, api: StandIn
) -> None:
    api.routes["/cgi-bin/media/get"] = (200, {"errcode": 40007, "errmsg": "invalid media_id"})
    # A PicUrl anywhere but WeChat (an internal service, here another local server) is never
    # fetched: in plain mode the body is not covered by the signature.
    with StandIn({"/secret": (200, png(), {"Content-Type": "image/png"})}) as internal:
        port = internal.base_url.rsplit(":", 1)[1]
        body = wx.image(f"http://localhost:{port}/secret", "GONE", 6054768590064713733)
        assert push(client, body).content == b"success"
        assert internal.requests == []
    message = Ticket.objects.get(channel="wechat").messages.get()
    assert not message.attachments.exists()
    assert "no picture WeChat serves" in message.body
    # The PicUrl on the API's own host is taken when the media API refuses.
    api.routes["/mmbiz_jpg/0"] = (200, png(), {"Content-Type": "image/png"})
    assert (
        push(client, wx.image(f"{api.base_url}/mmbiz_jpg/0", "GONE", 6054768590064713734)).status_code == 200
    )
    second = Ticket.objects.get().messages.order_by("pk").last()
    assert second is not None and [a.content_type for a in second.attachments.all()] == ["image/png"]


# --- forgeries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"timestamp": "1765000000", "nonce": "1"},
        {**wx.query(), "signature": "0" * 40},
        wx.query("a-guessed-token"),
        {**wx.query(), "nonce": "tampered"},
    ],
    ids=["none", "no-signature", "zeros", "wrong-token", "tampered-nonce"],
)
def test_a_bad_signature_is_refused_and_stores_nothing(
    client: Client, account: SocialAccount, params: dict[str, str]
) -> None:
    response = push(client, wx.text("hello", 6054768590064713740), params)
    assert response.status_code == 403
    assert nothing_stored()


def test_a_captured_plain_url_is_refused_once_stale(client: Client, account: SocialAccount) -> None:
    # The plain-mode signature covers token, timestamp and nonce only, not the body: someone
    # who saw a signed URL could send any body with it. Not for long.
    old = wx.query(timestamp=str(int(time.time()) - 3600))
    assert push(client, wx.text("send the refund to 0xattacker", 6054768590064713745), old).status_code == 403
    future = wx.query(timestamp=str(int(time.time()) + 3600))
    assert (
        push(client, wx.text("send the refund to 0xattacker", 6054768590064713746), future).status_code == 403
    )
    assert nothing_stored()


def test_a_forged_sender_with_a_wrong_signature_reaches_no_ticket(
    client: Client, account: SocialAccount, api: StandIn
) -> None:
    push(client, wx.text("my transfer failed", 6054768590064713741))
    ticket = Ticket.objects.get()
    # Someone posting as that customer (their openid) without our token.
    forged = wx.text("ignore that, send the refund to 0xattacker", 6054768590064713742)
    assert push(client, forged, wx.query("attacker-token")).status_code == 403
    assert [m.body for m in ticket.messages.all()] == ["my transfer failed"]
    assert SocialInbound.objects.count() == 1


def test_safe_mode_refuses_wrong_app_wrong_key_bad_msg_signature_and_plain(
    client: Client, safe_account: SocialAccount
) -> None:
    plain = wx.text("hello", 6054768590064713750)
    # Correctly keyed and signed, but made for another official account.
    params, body = wx.safe(plain, app_id="wx1111111111111111")
    assert push(client, body, params, slug="safe").status_code == 403
    # Encrypted with another key.
    params, body = wx.safe(plain, aes_key="A" * 43)
    assert push(client, body, params, slug="safe").status_code == 403
    # msg_signature that does not cover this ciphertext.
    params, body = wx.safe(plain)
    params["msg_signature"] = wx.sign(wx.TOKEN, params["timestamp"], params["nonce"], "other")
    assert push(client, body, params, slug="safe").status_code == 403
    # The plain body, signed: the signature does not cover a plain body, so a safe-mode
    # account takes none.
    assert push(client, plain, slug="safe").status_code == 403
    assert nothing_stored()


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName><![CDATA[gh_3f0b7e4a8c21]]></ToUserName><FromUserName><![CDATA[oia2]]></FromUserName>
<CreateTime>1765000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&xxe;</Content>
<MsgId>6054768590064713760</MsgId></xml>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1765000000</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>6054768590064713761</MsgId></xml>"""


@pytest.mark.parametrize(
    "body", [XXE, LAUGHS, b"<xml><Content>", b"not xml"], ids=["xxe", "laughs", "cut", "junk"]
)
def test_xml_attacks_are_refused_unread(client: Client, account: SocialAccount, body: bytes) -> None:
    # Signed correctly: the XML itself is the attack. Unsigned, it never reaches the parser.
    assert push(client, body).status_code == 400
    assert push(client, body, wx.query("wrong")).status_code == 403
    assert nothing_stored()


def test_an_entity_inside_the_ciphertext_is_refused_too(client: Client, safe_account: SocialAccount) -> None:
    params, body = wx.safe(XXE)
    assert push(client, body, params, slug="safe").status_code == 400
    assert nothing_stored()


def test_a_recovery_phrase_in_content_is_never_stored(client: Client, account: SocialAccount) -> None:
    body = wx.text(f"客服你好，我的助记词是 {PHRASE} 请帮我找回", 6054768590064713770)
    assert push(client, body).content == b"success"
    ticket = Ticket.objects.get(channel="wechat")
    stored = " ".join([ticket.subject, *(m.body for m in ticket.messages.all())])
    assert "sausage worth" not in stored
    assert "sausage worth" not in json.dumps(list(SocialInbound.objects.values()), default=str)
    assert ticket.team is not None and ticket.team.slug == "security"
