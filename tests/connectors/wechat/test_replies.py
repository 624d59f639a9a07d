"""Replies to a WeChat customer: through the customer-service API while WeChat allows it
(48 hours after their last message, 5 messages), refused before anything is sent when it
does not, the template message instead; retries, permanent errcodes and a replaced token."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.connectors.standin import Recorded, StandIn
from tests.connectors.wechat import wx
from tests.connectors.wechat.conftest import CUSTOM, OK, TEMPLATE, png, push
from walletdesk.connectors.social import outbound
from walletdesk.connectors.social.models import ProviderToken, SocialAccount, SocialOutbound
from walletdesk.tickets import actions
from walletdesk.tickets.actions import TicketError
from walletdesk.tickets.files import check_file
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db
_ids = count(6054768590064714000)


def customer_writes(client: Client, text: str = "我的转账失败了", slug: str = "main") -> Ticket:
    assert push(client, wx.text(text, next(_ids)), slug=slug).content == b"success"
    return Ticket.objects.get(channel="wechat")


def test_a_reply_goes_to_that_customer_as_utf8_text(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = customer_writes(client)
    actions.add_agent_message(ticket, "请提供交易哈希，我们马上查。", agent=alice)
    sent = api.requests_to(CUSTOM)[-1]
    assert sent.json() == {
        "touser": wx.OPENID,
        "msgtype": "text",
        "text": {"content": "请提供交易哈希，我们马上查。"},
    }
    assert "请提供交易哈希".encode() in sent.body  # not \u escapes, which WeChat shows as they are
    assert SocialOutbound.objects.get(ticket=ticket, kind="reply").state == "sent"


def test_a_picture_reply_is_uploaded_then_sent_as_an_image(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = customer_writes(client)
    picture = check_file("steps.png", png())
    actions.add_agent_message(ticket, "Follow these steps.", agent=alice, attachments=[picture])
    upload = api.requests_to("/cgi-bin/media/upload")[0]
    assert upload.query == {"type": ["image"], "access_token": ["ACCESS_TOKEN_1"]}
    assert b'name="media"' in upload.body and png() in upload.body
    kinds = [r.json()["msgtype"] for r in api.requests_to(CUSTOM)[-2:]]
    assert kinds == ["text", "image"]
    assert api.requests_to(CUSTOM)[-1].json()["image"] == {"media_id": "UPLOADED_1"}


def test_a_reply_outside_48_hours_is_refused_before_it_is_sent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = customer_writes(client)
    Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=timezone.now() - timedelta(hours=49))
    ticket.refresh_from_db()
    before = len(api.requests)
    with pytest.raises(TicketError) as refused:
        actions.add_agent_message(ticket, "Sorry for the wait.", agent=alice)
    assert refused.value.code == "outside_reply_window"
    assert "48" in refused.value.message
    assert len(api.requests) == before  # nothing reached WeChat
    assert not Message.objects.filter(ticket=ticket, body="Sorry for the wait.").exists()
    # Without a template_id there is nothing else to offer.
    assert outbound.window(ticket).alternative == ""  # type: ignore[union-attr]
    # An internal note is not a message to the customer: still allowed.
    actions.add_agent_message(ticket, "Customer went quiet.", agent=alice, internal=True)


def test_the_sixth_message_after_the_customers_last_is_refused(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    customer_writes(client)  # the acknowledgement is one of the five; a new message resets them
    ticket = customer_writes(client, "还在吗？")
    window = outbound.window(ticket)
    assert window is not None and window.open and window.remaining == 5 and window.allowed == 5
    assert window.closes_at is not None
    assert abs((window.closes_at - timezone.now()) - timedelta(hours=48)).total_seconds() < 60
    before = len(api.requests_to(CUSTOM))
    for n in range(5):
        actions.add_agent_message(ticket, f"update {n + 1}", agent=alice)
    assert len(api.requests_to(CUSTOM)) == before + 5
    assert outbound.window(ticket).remaining == 0  # type: ignore[union-attr]
    with pytest.raises(TicketError) as refused:
        actions.add_agent_message(ticket, "update 6", agent=alice)
    assert refused.value.code == "outside_reply_window" and "5" in refused.value.message
    assert len(api.requests_to(CUSTOM)) == before + 5
    assert SocialOutbound.objects.filter(ticket=ticket, kind="reply", state="sent").count() == 5
    # The customer writes again: five more.
    ticket = customer_writes(client, "收到，谢谢")
    assert outbound.window(ticket).remaining == 5  # type: ignore[union-attr]


def test_outside_the_window_the_template_message_is_offered_and_sent(
    client: Client, template_account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = customer_writes(client)
    assert outbound.window(ticket).alternative == ""  # type: ignore[union-attr]  # open: no need
    Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=timezone.now() - timedelta(hours=49))
    ticket.refresh_from_db()
    window = outbound.window(ticket)
    assert window is not None and not window.open and window.alternative == "template"
    row = outbound.send_template(ticket, agent=alice)
    assert row.state == "sent" and row.provider_message_id == "200228332"
    sent = api.requests_to(TEMPLATE)[0]
    body = sent.json()
    assert body["touser"] == wx.OPENID
    assert body["template_id"] == "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY"
    assert body["url"] == row.link and row.link.startswith("http")
    assert ticket.reference in body["data"]["content"]["value"]
    assert sent.query["access_token"] == ["ACCESS_TOKEN_1"]


def test_a_busy_wechat_is_retried_then_sent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = customer_writes(client)
    api.routes[CUSTOM] = [
        (502, "bad gateway"),
        (200, {"errcode": -1, "errmsg": "system error"}),
        (200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}),
        OK,
    ]
    actions.add_agent_message(ticket, "We are looking.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "retry" and "502" in row.last_error
    for error in ("errcode -1", "errcode 45009"):
        SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
        assert outbound.deliver(row.pk).startswith("retry in")
        row.refresh_from_db()
        assert error in row.last_error
    SocialOutbound.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert outbound.deliver(row.pk) == "sent"
    assert len([r for r in api.requests_to(CUSTOM) if r.json()["text"]["content"] == "We are looking."]) == 4


@pytest.mark.parametrize("code", [45015, 45047, 40003])
def test_window_and_other_errcodes_fail_at_once_and_tell_the_agent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any, code: int
) -> None:
    ticket = customer_writes(client)
    api.routes[CUSTOM] = (200, {"errcode": code, "errmsg": "refused"})
    actions.add_agent_message(ticket, "Here is what to do.", agent=alice)
    row = SocialOutbound.objects.get(ticket=ticket, kind="reply")
    assert row.state == "failed" and row.attempts == 1 and str(code) in row.last_error
    note = ticket.messages.filter(body__contains=str(code)).get()
    assert not note.is_public
    assert any(f.get("code") == "social_undelivered" for f in Ticket.objects.get(pk=ticket.pk).flags)


@pytest.mark.parametrize("code", [40001, 42001, 40014])
def test_an_invalid_token_is_replaced_once_and_the_call_made_again(
    client: Client, account: SocialAccount, api: StandIn, alice: Any, code: int
) -> None:
    issued = count(1)

    def token(_request: Recorded) -> Any:
        return 200, {"access_token": f"ACCESS_TOKEN_{next(issued)}", "expires_in": 7200}

    api.routes["/cgi-bin/token"] = token
    ticket = customer_writes(client)  # the acknowledgement fetched token 1
    api.routes[CUSTOM] = [(200, {"errcode": code, "errmsg": "invalid credential"}), OK]
    actions.add_agent_message(ticket, "Checking now.", agent=alice)
    assert SocialOutbound.objects.get(ticket=ticket, kind="reply").state == "sent"
    tries = [r for r in api.requests_to(CUSTOM) if r.json()["text"]["content"] == "Checking now."]
    assert [r.query["access_token"] for r in tries] == [["ACCESS_TOKEN_1"], ["ACCESS_TOKEN_2"]]
    assert ProviderToken.objects.get(pk=account.pk).fetches == 2
    # A token that is refused again is not refreshed in a loop.
    api.routes[CUSTOM] = (200, {"errcode": code, "errmsg": "invalid credential"})
    actions.add_agent_message(ticket, "Still there?", agent=alice)
    assert len(api.requests_to("/cgi-bin/token")) == 3
    assert SocialOutbound.objects.get(ticket=ticket, text="Still there?").state == "failed"


def test_a_failing_token_endpoint_is_retried_later(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    api.routes["/cgi-bin/token"] = [
        (200, {"errcode": -1, "errmsg": "system error"}),
        (200, {"access_token": "T2", "expires_in": 7200}),
    ]
    customer_writes(client)
    ack = SocialOutbound.objects.get(kind="created")
    assert ack.state == "retry" and "-1" in ack.last_error
    SocialOutbound.objects.filter(pk=ack.pk).update(next_attempt_at=None)
    assert outbound.deliver(ack.pk) == "sent"
    assert api.requests_to(CUSTOM)[-1].query["access_token"] == ["T2"]
