"""The first answer (#22): it quotes one article's own passage when retrieval is sure, stays
quiet otherwise, and only the ticket's owner can say "this solved it" or "talk to a person".

Personas: a guest (tracking token), carol and dave (signed-in customers), an app user of the
in-app API, a chat guest on the real ASGI app.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.chat.sockets import customer, frames_until, inline_sync_work
from tests.conftest import client_for
from walletdesk.connectors.inapp.models import AppKey
from walletdesk.core import live
from walletdesk.desk.reports.metrics import first_answers
from walletdesk.kb.answer import first_answer
from walletdesk.kb.models import ArticleTranslation
from walletdesk.tickets.models import Status, Ticket, TicketEvent

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
CLEAR_EN = "My transfer is stuck"
CLEAR_ZH = "转账一直显示确认中"


@pytest.fixture(autouse=True)
def _on(settings: Any) -> None:
    settings.FIRST_ANSWER = True


@pytest.mark.parametrize(
    "text",
    ["what's the BTC price tomorrow", "明天比特币多少钱", "你好呀", "hi how are you", "明天比特幣多少錢"],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_it_stays_quiet_on_prices_and_chit_chat(starter: None, text: str, language: str) -> None:
    assert first_answer(text, language) is None


@pytest.mark.parametrize(("text", "language"), [(CLEAR_ZH, "zh-hans"), (CLEAR_EN, "en")])
def test_a_clear_question_gets_the_articles_own_passage(starter: None, text: str, language: str) -> None:
    found = first_answer(text, language)
    assert found is not None and found.slug == "transaction-pending"
    body = ArticleTranslation.objects.get(article__slug="transaction-pending", language=found.language)
    assert found.passage in body.body_markdown  # quoted, never written
    assert found.title == body.title and found.url == "/help/a/transaction-pending/"


def test_a_text_holding_a_recovery_phrase_gets_no_answer(starter: None) -> None:
    assert first_answer(f"{CLEAR_EN}. my words are {PHRASE}", "en") is None


def _file(client: Client, subject: str = CLEAR_EN, body: str = "It has been pending for an hour.") -> str:
    response = client.post(
        "/new/", {"category": "other", "email": "guest@example.com", "subject": subject, "body": body}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def test_the_form_offers_it_and_talk_to_a_person_keeps_the_ticket_with_an_agent(starter: None) -> None:
    guest = Client(enforce_csrf_checks=True)
    guest.get("/new/")
    csrf = guest.cookies["csrftoken"].value
    submitted = guest.post(
        "/new/",
        {
            "category": "other",
            "email": "guest@example.com",
            "subject": CLEAR_EN,
            "body": "It has been pending for an hour.",
            "csrfmiddlewaretoken": csrf,
        },
    )["Location"]
    page = guest.get(submitted).content.decode()
    assert 'data-testid="first-answer"' in page and "/help/a/transaction-pending/" in page
    token = submitted.rstrip("/").rsplit("/", 1)[-1]
    ticket = Ticket.objects.get()
    offer = re.search(r'name="offer" value="(\d+)"', page)
    assert offer is not None
    url = f"/track/{token}/answer/"

    assert guest.get(url).status_code == 405  # GET changes nothing
    assert guest.post(url, {"offer": offer[1], "choice": "solved"}).status_code == 403  # no CSRF token
    assert (
        guest.post(
            f"/track/{token}x/answer/", {"offer": offer[1], "choice": "solved", "csrfmiddlewaretoken": csrf}
        ).status_code
        == 403
    )  # forged token
    ticket.refresh_from_db()
    assert ticket.status not in (Status.SOLVED, Status.CLOSED)

    pressed = guest.post(url, {"offer": offer[1], "choice": "person", "csrfmiddlewaretoken": csrf})
    assert pressed.status_code == 302
    # A replay, or the other button afterwards, changes nothing.
    guest.post(url, {"offer": offer[1], "choice": "solved", "csrfmiddlewaretoken": csrf})
    ticket.refresh_from_db()
    assert ticket.status not in (Status.SOLVED, Status.CLOSED)
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket, kind__startswith="first_answer").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["first_answer_offered", "first_answer_declined"]
    assert "An agent will answer you." in guest.get(f"/track/{token}/").content.decode()


def test_this_solved_it_from_my_requests_solves_and_counts_and_nobody_else_can(
    starter: None, carol: Any, dave: Any
) -> None:
    start = timezone.now() - timedelta(minutes=1)
    owner = client_for(carol)
    _file(owner, subject=CLEAR_EN)
    ticket = Ticket.objects.get()
    offer = TicketEvent.objects.get(ticket=ticket, kind="first_answer_offered").data["message_id"]
    url = f"/requests/{ticket.reference}/answer/"
    assert client_for(dave).post(url, {"offer": offer, "choice": "solved"}).status_code == 404
    assert Client().post(url, {"offer": offer, "choice": "solved"}).status_code == 302  # to sign-in
    ticket.refresh_from_db()
    assert ticket.status not in (Status.SOLVED, Status.CLOSED)
    assert owner.post(url, {"offer": offer, "choice": "solved"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    period = Ticket.objects.filter(created_at__gte=start)
    assert first_answers(period) == (1, 1, 1, 0)


def test_below_the_threshold_nothing_is_offered(starter: None) -> None:
    _file(Client(), subject="hello", body="hi how are you")
    ticket = Ticket.objects.get()
    assert not TicketEvent.objects.filter(ticket=ticket, kind__startswith="first_answer").exists()
    assert ticket.messages.filter(author_role="system", external_id__contains="first-answer").count() == 0


def _inapp(key: str, user: str, url: str, data: Any) -> Any:
    return Client().post(
        url, json.dumps(data), content_type="application/json", headers={"X-App-Key": key, "X-App-User": user}
    )


def test_the_in_app_api_carries_the_answer_and_only_its_user_may_press(starter: None) -> None:
    key = AppKey.issue("wallet-ios")[1]
    new = {"message_id": "m-1", "subject": CLEAR_ZH, "body": "三个小时了", "locale": "zh-CN"}
    created = _inapp(key, "user-42", "/api/v1/inapp/tickets", new)
    assert created.status_code == 201, created.content
    body = created.json()
    assert {"reference", "status", "priority", "category", "tracking_url", "sla"} <= set(body)
    fa = body["first_answer"]
    assert fa["url"] == "/help/a/transaction-pending/" and fa["choices"] == ["solved", "person"]
    press = {"offer": fa["offer"], "choice": "solved"}
    assert _inapp(key, "user-43", fa["action_url"], press).status_code == 404  # another app user
    other_key = AppKey.issue("wallet-android")[1]
    assert _inapp(other_key, "user-42", fa["action_url"], press).status_code == 404  # another app
    done = _inapp(key, "user-42", fa["action_url"], press)
    assert done.status_code == 200 and done.json()["status"] == "solved"
    assert _inapp(key, "user-42", fa["action_url"], press).status_code == 409  # a replay
    quiet = _inapp(
        key,
        "user-42",
        "/api/v1/inapp/tickets",
        {**new, "message_id": "m-2", "subject": "你好呀", "body": "你好"},
    )
    assert quiet.status_code == 201 and quiet.json()["first_answer"] is None


@pytest.mark.django_db(transaction=True)
def test_the_chat_bot_line_and_this_solved_it_end_the_chat_solved(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps

    from walletdesk.kb.seed import load_starter

    load_starter(apps)
    inline_sync_work(monkeypatch)

    def start() -> dict[str, Any]:
        r = Client().post(
            "/api/v1/chat/conversations",
            json.dumps({"name": "Ana", "language": "zh-hans"}),
            content_type="application/json",
        )
        assert r.status_code == 201
        return r.json()

    mine, theirs = start(), start()

    async def run() -> None:
        sock = customer(mine["ws_url"])
        await sock.connect()
        await frames_until(sock, lambda f: f["type"] == "message")
        # In Chinese: the chat passes a stub ticket, and the offer must read the row's language.
        await sock.send_json_to({"type": "message", "client_id": "c-1", "body": CLEAR_ZH})
        # A generous wait, not a timing claim: the first search builds the index (jieba).
        found = await frames_until(sock, lambda f: f["type"] == "message" and f.get("first_answer"), 60)
        bot = found[-1]
        assert bot["author"] == "system" and bot["first_answer"]["state"] == "pending"
        assert bot["first_answer"]["url"] == "/help/a/transaction-pending/"
        # Someone else's socket cannot press it: the seq names a message of their own chat.
        other = customer(theirs["ws_url"])
        await other.connect()
        await frames_until(other, lambda f: f["type"] == "message")
        await other.send_json_to({"type": "first_answer", "seq": bot["seq"], "choice": "solved"})
        refused = (await frames_until(other, lambda f: f["type"] == "error"))[-1]
        assert refused["code"] == "not_found"
        await other.disconnect()
        await sock.send_json_to({"type": "first_answer", "seq": bot["seq"], "choice": "solved"})
        got = await frames_until(sock, lambda f: f["type"] == "ended", 30)
        assert any(f["type"] == "first_answer" and f["state"] == "solved" for f in got)
        await sock.send_json_to({"type": "first_answer", "seq": bot["seq"], "choice": "person"})
        again = (await frames_until(sock, lambda f: f["type"] == "error"))[-1]
        assert again["code"] == "already_answered"
        await sock.disconnect()

    try:
        asyncio.run(run())
    finally:
        live.reset_for_tests()
        gc.collect()
    ticket = Ticket.objects.get(reference=mine["reference"])
    assert ticket.status == Status.SOLVED
    assert TicketEvent.objects.filter(ticket=ticket, kind="first_answer_solved").count() == 1
    assert Ticket.objects.get(reference=theirs["reference"]).status != Status.SOLVED
