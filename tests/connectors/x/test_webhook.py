"""X through its real Account Activity webhook: the CRC challenge, signed pushes that become
one ticket per person, DM replies out through a stand-in X API with an OAuth 1.0a signature the
test verifies on its own, and forgeries, replays and our own echoed DMs that store nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import quote, unquote

import pytest
from django.core.management import call_command
from django.test import Client

from tests.connectors.standin import Recorded, StandIn
from walletdesk.connectors.social import outbound
from walletdesk.connectors.social.models import SocialAccount, SocialInbound, SocialOutbound
from walletdesk.tickets import actions
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

OWN = "1500000000000000001"  # our account's user id
CONSUMER_KEY = "xvz1evFS4wEEPTGEFPHBog"
# Characters OAuth must percent-encode, so a sloppy encoder fails the check below.
CONSUMER_SECRET = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw+/="
ACCESS_TOKEN = f"{OWN}-370773112GmHxMAgYfLtTGQO2ZKBVdLLpZnL"
ACCESS_SECRET = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE&!"
LIN, MEI = "2001", "2002"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(out, "PNG")
    return out.getvalue()


def _sent(event_id: str) -> tuple[int, Any]:
    return (201, {"data": {"dm_conversation_id": f"{OWN}-x", "dm_event_id": event_id}})


@pytest.fixture
def api() -> Any:
    with StandIn(
        {
            f"/2/dm_conversations/with/{LIN}/messages": _sent("9001"),
            f"/2/dm_conversations/with/{MEI}/messages": _sent("9002"),
            "/1.1/ton/data/dm/77/88/pic.png": (200, _png()),
        }
    ) as server:
        yield server


@pytest.fixture
def account(api: StandIn) -> SocialAccount:
    call_command(
        "connect",
        "x",
        "--slug",
        "wallet",
        "--set",
        f"consumer_key={CONSUMER_KEY}",
        "--set",
        f"consumer_secret={CONSUMER_SECRET}",
        "--set",
        f"access_token={ACCESS_TOKEN}",
        "--set",
        f"access_token_secret={ACCESS_SECRET}",
        "--set",
        f"api_base={api.base_url}",
    )
    return SocialAccount.objects.get(provider="x", slug="wallet")


# --- the documented formats ---------------------------------------------------------------------


def dm(
    event_id: str, sender: str, text: str, *, name: str = "Lin Wei", media: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A direct_message_events push as the Account Activity API sends it."""
    data: dict[str, Any] = {
        "text": text,
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
    }
    if media is not None:
        data["text"] = f"{text} {media['url']}".strip()
        data["attachment"] = {"type": "media", "media": media}
    recipient = OWN if sender != OWN else LIN
    return {
        "for_user_id": OWN,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": "1765100000000",
                "message_create": {
                    "target": {"recipient_id": recipient},
                    "sender_id": sender,
                    "message_data": data,
                },
            }
        ],
        "users": {
            sender: {"id": sender, "name": name, "screen_name": "lin_w", "protected": False},
            recipient: {"id": recipient, "name": "Wallet Support", "screen_name": "wallet"},
        },
    }


def signature(body: bytes, secret: str = CONSUMER_SECRET) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def push(client: Client, payload: Any, *, sig: str | None = "", slug: str = "wallet") -> Any:
    body = json.dumps(payload).encode()
    headers = {}
    if sig is not None:
        headers["x-twitter-webhooks-signature"] = sig or signature(body)
    return client.post(f"/hooks/x/{slug}", body, content_type="application/json", headers=headers)


def _enc(value: str) -> str:
    return quote(value, safe="~-._")  # RFC 5849 3.6: only unreserved characters stay


def assert_oauth_signed(request: Recorded, base_url: str) -> None:
    """Recompute the OAuth 1.0a HMAC-SHA1 signature from the request X would receive
    (RFC 5849 3.4), independently of the library that made it."""
    header = request.headers["authorization"]
    assert header.startswith("OAuth ")
    params = {}
    for part in header[len("OAuth ") :].split(","):
        key, _, value = part.strip().partition("=")
        params[unquote(key)] = unquote(value.strip('"'))
    given = params.pop("oauth_signature")
    params.pop("realm", None)
    assert params["oauth_consumer_key"] == CONSUMER_KEY
    assert params["oauth_token"] == ACCESS_TOKEN
    assert params["oauth_signature_method"] == "HMAC-SHA1"
    assert abs(int(params["oauth_timestamp"]) - time.time()) < 300
    pairs = list(params.items()) + [(k, v) for k, vs in request.query.items() for v in vs]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in pairs))
    base = "&".join([request.method, _enc(base_url + request.path), _enc(normalized)])
    key = f"{_enc(CONSUMER_SECRET)}&{_enc(ACCESS_SECRET)}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    assert hmac.compare_digest(given, expected)


# --- the tests ----------------------------------------------------------------------------------


def test_the_crc_challenge_is_answered_with_the_hmac_of_the_token(
    client: Client, account: SocialAccount
) -> None:
    response = client.get("/hooks/x/wallet", {"crc_token": "challenge-1765100000"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"response_token": signature(b"challenge-1765100000")}
    assert client.get("/hooks/x/wallet").status_code == 400


def test_two_people_get_one_ticket_each_and_the_reply_reaches_only_its_person(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    assert push(client, dm("1001", LIN, "My withdrawal has been pending for two days")).status_code == 200
    assert push(client, dm("1002", MEI, "我的钱包余额显示为零", name="Mei")).status_code == 200
    assert push(client, dm("1003", LIN, "The tx hash follows")).status_code == 200
    tickets = list(Ticket.objects.filter(channel="x").order_by("pk"))
    assert len(tickets) == 2
    lin_ticket, mei_ticket = tickets
    assert [m.body for m in lin_ticket.messages.order_by("pk")] == [
        "My withdrawal has been pending for two days",
        "The tx hash follows",
    ]
    assert lin_ticket.contact.name == "Lin Wei" and mei_ticket.contact.name == "Mei"
    # Each got the acknowledgement with their own reference, as a DM to them.
    to_lin = api.requests_to(f"/2/dm_conversations/with/{LIN}/messages")
    to_mei = api.requests_to(f"/2/dm_conversations/with/{MEI}/messages")
    assert len(to_lin) == 1 and lin_ticket.reference in to_lin[0].json()["text"]
    assert len(to_mei) == 1 and mei_ticket.reference in to_mei[0].json()["text"]

    actions.add_agent_message(lin_ticket, "Please send the transaction hash.", agent=alice)
    to_lin = api.requests_to(f"/2/dm_conversations/with/{LIN}/messages")
    assert len(to_lin) == 2 and len(api.requests_to(f"/2/dm_conversations/with/{MEI}/messages")) == 1
    reply = to_lin[-1]
    assert reply.method == "POST" and reply.json() == {"text": "Please send the transaction hash."}
    assert reply.headers["content-type"] == "application/json"
    assert_oauth_signed(reply, api.base_url)
    row = SocialOutbound.objects.get(ticket=lin_ticket, kind="reply")
    assert row.state == "sent" and row.provider_message_id == "9001"


@pytest.mark.parametrize(
    "sig",
    [
        None,  # no header at all
        "sha256=",
        "sha256=AAAA",
        signature(b"{}"),  # a valid signature of another body
        signature(json.dumps(dm("1001", LIN, "hi")).encode(), secret="not-the-secret"),
        "sha1=" + base64.b64encode(b"x" * 20).decode(),
    ],
)
def test_a_push_without_a_valid_signature_is_refused_and_stores_nothing(
    client: Client, account: SocialAccount, api: StandIn, sig: str | None
) -> None:
    response = push(client, dm("1001", LIN, "hi"), sig=sig)
    assert response.status_code == 403
    assert not SocialInbound.objects.exists()
    assert not Ticket.objects.exists()
    assert not api.requests


def test_a_signature_over_the_body_as_sent_is_what_counts(client: Client, account: SocialAccount) -> None:
    # Signed, then one character changed in transit: refused.
    body = json.dumps(dm("1001", LIN, "send 1 BTC")).encode()
    tampered = body.replace(b"send 1 BTC", b"send 9 BTC")
    response = client.post(
        "/hooks/x/wallet",
        tampered,
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": signature(body)},
    )
    assert response.status_code == 403 and not SocialInbound.objects.exists()


def test_a_replayed_push_creates_nothing_more(client: Client, account: SocialAccount, api: StandIn) -> None:
    body = dm("1005", LIN, "hello, my wallet is locked")
    for _ in range(3):
        assert push(client, body).status_code == 200
    follow = {
        "for_user_id": OWN,
        "follow_events": [
            {
                "type": "follow",
                "created_timestamp": "1765100000001",
                "source": {"id": LIN},
                "target": {"id": OWN},
            }
        ],
    }
    favorite = {
        "for_user_id": OWN,
        "favorite_events": [
            {"id": "fav-77", "created_at": "Mon Dec 07 08:00:00 +0000 2026", "user": {"id_str": MEI}}
        ],
    }
    for _ in range(2):
        assert push(client, follow).status_code == 200
        assert push(client, favorite).status_code == 200
    assert Ticket.objects.filter(channel="x").count() == 1
    assert Message.objects.filter(channel="x").count() == 1
    assert SocialInbound.objects.count() == 3
    assert set(SocialInbound.objects.values_list("kind", "event")) == {
        ("message", ""),
        ("event", "follow_events"),
        ("event", "favorite_events"),
    }
    # One acknowledgement, not three.
    assert len(api.requests_to(f"/2/dm_conversations/with/{LIN}/messages")) == 1


def test_our_own_dm_echoed_back_is_ignored(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, dm("1010", LIN, "Is this the official support?"))
    ticket = Ticket.objects.get(channel="x")
    actions.add_agent_message(ticket, "Yes, this is us.", agent=alice)
    # X pushes the DM we just sent back to the webhook, from our own account.
    assert push(client, dm("9001", OWN, "Yes, this is us.")).status_code == 200
    echoed = SocialInbound.objects.get(provider_id="9001")
    assert echoed.kind == "ignored" and echoed.state == "ignored"
    assert Ticket.objects.filter(channel="x").count() == 1
    assert [m.body for m in ticket.messages.filter(author_role="customer")] == [
        "Is this the official support?"
    ]


def test_a_push_for_another_account_of_the_app_opens_no_ticket(
    client: Client, account: SocialAccount, api: StandIn
) -> None:
    # One webhook URL serves every account subscribed to the app.
    other = dm("1020", LIN, "hello")
    other["for_user_id"] = "1499999999999999999"
    assert push(client, other).status_code == 200
    assert not Ticket.objects.exists()
    assert SocialInbound.objects.get().event == "other_account"
    assert not api.requests


def test_a_recovery_phrase_in_the_text_or_the_name_is_never_stored(
    client: Client, account: SocialAccount
) -> None:
    assert (
        push(client, dm("1030", LIN, f"support asked for my words: {PHRASE}", name=PHRASE)).status_code == 200
    )
    ticket = Ticket.objects.get(channel="x")
    stored = " ".join([ticket.subject, ticket.contact.name, *(m.body for m in ticket.messages.all())])
    assert "sausage worth" not in stored
    assert "sausage worth" not in json.dumps(list(SocialInbound.objects.values()), default=str)
    assert ticket.team is not None and ticket.team.slug == "security"


def test_a_dm_picture_is_downloaded_with_an_oauth_signature(
    client: Client, account: SocialAccount, api: StandIn
) -> None:
    media = {
        "id": 88,
        "id_str": "88",
        "type": "photo",
        "url": "https://t.co/AbCdEf123",
        "media_url_https": f"{api.base_url}/1.1/ton/data/dm/77/88/pic.png",
    }
    assert push(client, dm("1040", LIN, "the error screen", media=media)).status_code == 200
    message = Ticket.objects.get(channel="x").messages.get()
    assert message.body == "the error screen"  # the picture's t.co link is the picture
    assert [a.content_type for a in message.attachments.all()] == ["image/png"]
    fetched = api.requests_to("/1.1/ton/data/dm/77/88/pic.png")
    assert len(fetched) == 1 and fetched[0].method == "GET"
    assert_oauth_signed(fetched[0], api.base_url)


def test_our_signature_is_never_sent_to_a_host_a_push_names(client: Client, account: SocialAccount) -> None:
    with StandIn({"/steal.png": (200, _png())}) as elsewhere:
        media = {
            "id_str": "89",
            "type": "photo",
            "url": "https://t.co/x",
            "media_url_https": f"{elsewhere.base_url}/steal.png",
        }
        # Signed with our secret: even a genuine-looking push cannot point our OAuth header elsewhere.
        elsewhere_port = elsewhere.base_url.rsplit(":", 1)[-1]
        assert elsewhere_port not in account.credentials()["api_base"]
        assert push(client, dm("1041", LIN, "look", media=media)).status_code == 200
        assert not elsewhere.requests
    message = Ticket.objects.get(channel="x").messages.get()
    assert not message.attachments.exists()
    assert "could not be received" in message.body or "未能从平台接收图片" in message.body


def test_a_provider_5xx_is_retried_then_sent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, dm("1050", LIN, "hello there"))
    ticket = Ticket.objects.get(channel="x")
    path = f"/2/dm_conversations/with/{LIN}/messages"
    api.routes[path] = [(503, {"title": "Service Unavailable"}), _sent("9100")]
    actions.add_agent_message(ticket, "We are looking into it.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "retry" and row.attempts == 1 and "503" in row.last_error
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk) == "sent"
    row.refresh_from_db()
    assert row.state == "sent" and row.provider_message_id == "9100"
    sent = api.requests_to(path)[-2:]
    assert [r.json()["text"] for r in sent] == ["We are looking into it."] * 2
    for request in sent:
        assert_oauth_signed(request, api.base_url)
    # Each attempt is signed afresh: X refuses a reused nonce.
    assert len({r.headers["authorization"] for r in sent}) == 2


def test_a_429_waits_for_the_rate_limit_reset(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, dm("1060", LIN, "hello there"))
    ticket = Ticket.objects.get(channel="x")
    reset = int(time.time()) + 900
    api.routes[f"/2/dm_conversations/with/{LIN}/messages"] = [
        (
            429,
            {"title": "Too Many Requests", "status": 429},
            {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
        ),
        _sent("9200"),
    ]
    actions.add_agent_message(ticket, "One moment.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "retry" and "429" in row.last_error
    # Not the 30 s first backoff: the time X said the window resets.
    assert row.next_attempt_at.timestamp() >= reset - 5
    assert outbound.deliver(row.pk) == "not_due"
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk) == "sent"


def test_a_refused_dm_fails_at_once_and_the_agent_is_told(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    push(client, dm("1070", LIN, "hello there"))
    ticket = Ticket.objects.get(channel="x")
    path = f"/2/dm_conversations/with/{LIN}/messages"
    api.routes[path] = (403, {"title": "Forbidden", "detail": "You cannot send messages to this user."})
    before = len(api.requests_to(path))
    actions.add_agent_message(ticket, "Hello?", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "failed" and row.attempts == 1
    assert len(api.requests_to(path)) == before + 1
    ticket.refresh_from_db()
    assert any(flag.get("code") == "social_undelivered" for flag in ticket.flags)
