"""The composer of a WeChat ticket: the reply window (when it closes, how many of the 5
messages are left), its refusal outside it with the reason (desk and API), and the template
message offered instead, sent only by an agent who may see the ticket."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import client_for
from tests.connectors.standin import StandIn
from tests.connectors.wechat import wx
from tests.connectors.wechat.conftest import CUSTOM, TEMPLATE, push
from walletdesk.accounts.actions import issue_api_token
from walletdesk.connectors.social.models import SocialAccount, SocialOutbound
from walletdesk.tickets.models import Message, Team, Ticket

pytestmark = pytest.mark.django_db
_ids = count(6054768590064715000)


def wechat_ticket(client: Client, *, hours_ago: float = 0, team: str = "general") -> Ticket:
    assert push(client, wx.text("提现一直处理中", next(_ids))).content == b"success"
    ticket = Ticket.objects.get(channel="wechat")
    Ticket.objects.filter(pk=ticket.pk).update(
        team=Team.objects.get(slug=team),
        last_customer_message_at=timezone.now() - timedelta(hours=hours_ago),
    )
    ticket.refresh_from_db()
    return ticket


def page(user: Any, ticket: Ticket, language: str = "en") -> str:
    response = client_for(user).get(
        f"/agent/tickets/{ticket.reference}/", headers={"Accept-Language": language}
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_composer_shows_when_the_window_closes_and_what_is_left(
    client: Client, account: SocialAccount, alice: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=10)
    assert ticket.last_customer_message_at is not None
    closes = timezone.localtime(ticket.last_customer_message_at + timedelta(hours=48)).strftime(
        "%Y-%m-%d %H:%M"
    )
    html = page(alice, ticket)
    # The acknowledgement went out after the customer's message: one of the five is used.
    assert f"Reply window: closes at {closes}, 4 of 5 left" in html
    assert 'data-testid="send-template"' not in html
    assert f"回复窗口：{closes} 关闭，剩余 4 / 5 条" in page(alice, ticket, "zh-hans")


def test_outside_the_window_the_desk_refuses_the_reply_with_the_reason(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=49)
    html = page(alice, ticket)
    assert "Reply window closed" in html and "more than 48 hours ago" in html
    assert 'data-testid="send-template"' not in html  # no template_id configured
    before = len(api.requests)
    response = client_for(alice).post(
        f"/agent/tickets/{ticket.reference}/reply/",
        {"body": "Sorry for the wait.", "version": ticket.version},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error" role="alert">The customer last wrote more than 48 hours ago.' in body
    assert "Sorry for the wait." in body  # the agent's text is kept
    assert len(api.requests) == before
    assert not Message.objects.filter(body="Sorry for the wait.").exists()
    zh = client_for(alice).post(
        f"/agent/tickets/{ticket.reference}/reply/",
        {"body": "抱歉久等", "version": ticket.version},
        headers={"Accept-Language": "zh-hans"},
    )
    assert zh.status_code == 400 and "微信只允许在客户最后一条消息后的 48 小时内回复" in zh.content.decode()


def test_the_api_answers_a_reply_outside_the_window_with_an_error(
    client: Client, template_account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=49)
    before = len(api.requests)
    response = Client().post(
        f"/api/v1/tickets/{ticket.reference}/messages",
        json.dumps({"body": "Sorry for the wait."}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {issue_api_token(alice, 'test')}"},
    )
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "outside_reply_window" and "48 hours" in error["message"]
    assert error["alternative"] == "template" and error["closes_at"]
    assert len(api.requests) == before


def test_the_template_message_is_offered_and_sent_from_the_desk(
    client: Client, template_account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=49)
    html = page(alice, ticket)
    assert 'data-testid="send-template"' in html and "Send template message" in html
    assert "发送模板消息" in page(alice, ticket, "zh-hans")
    response = client_for(alice).post(f"/agent/tickets/{ticket.reference}/template/", follow=True)
    assert response.status_code == 200 and "Template message sent." in response.content.decode()
    sent = api.requests_to(TEMPLATE)
    assert len(sent) == 1 and sent[0].json()["touser"] == wx.OPENID
    assert ticket.reference in sent[0].json()["data"]["content"]["value"]
    assert SocialOutbound.objects.get(kind="template").state == "sent"


def test_inside_the_window_there_is_no_template_to_send(
    client: Client, template_account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=1)
    response = client_for(alice).post(f"/agent/tickets/{ticket.reference}/template/", follow=True)
    assert "The reply window is open: send a normal reply." in response.content.decode()
    assert not api.requests_to(TEMPLATE)


def test_only_an_agent_who_sees_the_ticket_sends_a_template_and_only_by_post(
    client: Client, template_account: SocialAccount, api: StandIn, alice: Any, bob: Any, erin: Any, carol: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=49, team="security")
    url = f"/agent/tickets/{ticket.reference}/template/"
    for outsider in (alice, erin):  # not on the restricted security desk
        assert client_for(outsider).post(url).status_code == 404
    assert client_for(carol).post(url).status_code in (302, 403, 404)  # a customer
    assert Client().post(url).status_code == 302  # signed out: to the login page
    assert client_for(bob).get(url).status_code == 405
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    assert forged.post(url).status_code == 403  # no CSRF token: another site's form
    assert not api.requests_to(TEMPLATE)
    assert client_for(bob).post(url).status_code == 302
    assert len(api.requests_to(TEMPLATE)) == 1


def test_the_window_counts_down_as_messages_are_sent(
    client: Client, account: SocialAccount, api: StandIn, alice: Any
) -> None:
    ticket = wechat_ticket(client, hours_ago=0)
    agent = client_for(alice)
    for n in range(5):
        ticket.refresh_from_db()
        agent.post(
            f"/agent/tickets/{ticket.reference}/reply/", {"body": f"step {n}", "version": ticket.version}
        )
        if n == 3:
            assert "1 of 5 left" in page(alice, ticket)
    assert "all 5 are used" in page(alice, ticket)
    assert len([r for r in api.requests_to(CUSTOM) if r.json()["text"]["content"].startswith("step")]) == 5
