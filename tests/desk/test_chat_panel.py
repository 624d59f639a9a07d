"""The agent's live chat panel page (/agent/chats/): who may open it, and what it hands its
script. The panel's live behaviour is tested in a real browser (test_chat_panel_browser.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/agent/chats/"


def test_a_signed_out_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert (
        response["Location"].startswith("/accounts/login/") and "next=/agent/chats/" in response["Location"]
    )


def test_a_customer_is_refused(carol: Any) -> None:
    response = client_for(carol).get(URL)
    assert response.status_code == 403
    assert b"chat-panel" not in response.content


def test_an_inactive_staff_user_is_sent_away(alice: Any) -> None:
    client = client_for(alice)
    alice.is_active = False
    alice.save()
    assert client.get(URL).status_code in (302, 403)


def test_the_panel_renders_for_an_agent_in_english(alice: Any) -> None:
    response = client_for(alice).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Live chats</h1>" in html
    assert 'data-ws-path="/ws/chat/agent/"' in html
    assert f'data-me="{alice.pk}"' in html
    assert 'data-t-typing="{name} is typing…"' in html
    assert 'data-ticket-url="/agent/tickets/WD-REFERENCE/"' in html
    # The CSP allows no inline script: every script is a file.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "walletdesk/desk/chat_panel.js" in html and "walletdesk/desk/chat_panel.css" in html
    assert "script-src 'unsafe-inline'" not in response.get("Content-Security-Policy", "")


def test_the_panel_renders_in_simplified_chinese(alice: Any) -> None:
    client = client_for(alice)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(URL).content.decode()
    assert "<h1>在线聊天</h1>" in html
    assert 'data-t-typing="{name} 正在输入…"' in html
    assert "结束聊天" in html and "接管" in html


def test_the_desk_links_to_the_panel(alice: Any) -> None:
    html = client_for(alice).get("/agent/").content.decode()
    assert '<a href="/agent/chats/">Live chats</a>' in html


def test_the_open_parameter_cannot_inject_markup(alice: Any) -> None:
    html = client_for(alice).get(URL, {"open": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert" not in html
    assert 'data-open=""' in html
    html = client_for(alice).get(URL, {"open": "wd-261207-abc123"}).content.decode()
    assert 'data-open="WD-261207-ABC123"' in html


def test_a_chat_opened_by_reference_carries_its_summary_only_for_who_may_see_it(alice: Any, bob: Any) -> None:
    from walletdesk.chat import actions as chat
    from walletdesk.tickets.models import Team

    conversation = chat.start_conversation(name="Ana <img src=x>", language="en")
    reference = conversation.ticket.reference
    html = client_for(alice).get(URL, {"open": reference}).content.decode()
    assert f"&quot;reference&quot;: &quot;{reference}&quot;" in html
    assert "Ana &lt;img src=x&gt;" in html and "<img src=x>" not in html
    # A restricted team's chat: bob (security) sees it, alice (general) gets no summary of it.
    ticket = conversation.ticket
    ticket.team = Team.objects.get(slug="security")
    ticket.save(update_fields=["team"])
    assert 'data-open-summary=""' in client_for(alice).get(URL, {"open": reference}).content.decode()
    assert (
        reference
        in client_for(bob).get(URL, {"open": reference}).content.decode().split("data-open-summary=")[1][:400]
    )
