"""A ticket is answered in the language the customer wrote in, not the page's.

A customer on an English page who writes in Chinese got an English acknowledgement. Through
the API and the web form: the ticket's language, and the acknowledgement mail, follow the text;
a text that says nothing about language (a tx hash) keeps the page's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from walletdesk.tickets import language
from walletdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

SIMPLIFIED = "我的钱包被锁了，转账一直显示失败，请帮忙看看。"
TRADITIONAL = "我的錢包被鎖了，轉賬一直顯示失敗，請幫忙看看。"
ENGLISH = "My wallet says my account is locked and I cannot send anything."
TX = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"


def api_ticket(body: str, page: str, **extra: Any) -> Ticket:
    response = Client().post(
        "/api/v1/tickets",
        data=json.dumps({"email": "wang@example.com", "subject": "help", "body": body, **extra}),
        content_type="application/json",
        headers={"Accept-Language": page},
    )
    assert response.status_code == 201, response.content
    return Ticket.objects.get(reference=response.json()["reference"])


def form_ticket(body: str, page: str) -> Ticket:
    response = Client().post(
        "/new/",
        {"category": "other", "email": "wang@example.com", "subject": "Help", "body": body},
        headers={"Accept-Language": page},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Ticket.objects.latest("pk")


def acknowledgement() -> str:
    assert mail.outbox, "no acknowledgement was sent"
    return str(mail.outbox[-1].subject) + "\n" + str(mail.outbox[-1].body)


@pytest.mark.parametrize("make", [api_ticket, form_ticket])
def test_chinese_text_on_an_english_page_is_answered_in_chinese(make: Any) -> None:
    ticket = make(SIMPLIFIED, "en")
    assert ticket.language == "zh-hans"
    ack = acknowledgement()
    assert "感谢您联系客服" in ack and "Thank you for contacting" not in ack


@pytest.mark.parametrize("make", [api_ticket, form_ticket])
def test_english_text_on_a_chinese_page_is_answered_in_english(make: Any) -> None:
    ticket = make(ENGLISH, "zh-hans")
    assert ticket.language == "en"
    assert "Thank you for contacting support" in acknowledgement()


@pytest.mark.parametrize("make", [api_ticket, form_ticket])
def test_a_text_with_no_words_keeps_the_page_language(make: Any) -> None:
    assert make(TX, "zh-hans").language == "zh-hans"
    assert make(TX, "en").language == "en"


def test_the_api_language_field_gives_way_to_the_text() -> None:
    assert api_ticket(SIMPLIFIED, "en", language="en").language == "zh-hans"


def test_traditional_chinese_is_told_apart_once_the_interface_offers_it(settings: Any) -> None:
    # zh-hant is an interface language: a Traditional text is answered in it.
    assert api_ticket(TRADITIONAL, "en").language == "zh-hant"
    assert api_ticket(SIMPLIFIED, "en").language == "zh-hans"
    # Without it (an install that takes it out of LANGUAGES), Traditional gets zh-hans.
    settings.LANGUAGES = [lang for lang in settings.LANGUAGES if lang[0] != "zh-hant"]
    assert api_ticket(TRADITIONAL, "en").language == "zh-hans"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My wallet got locked, my name is 张三", "en"),  # a Chinese name in English
        ("imToken 钱包 USDT 转不出去", "zh-hans"),  # product names in Chinese
        ("help", None),
        (TX, None),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", None),
        (ENGLISH * 10 + SIMPLIFIED * 100, "en"),  # only the start is read
    ],
)
def test_detection(text: str, expected: str | None) -> None:
    assert language.detect(text) == expected


def test_detection_reads_only_the_start_of_a_long_text() -> None:
    # Its cost does not grow with the text (speed itself is the benches' job): what follows the
    # first few hundred characters cannot change the answer.
    long_text = SIMPLIFIED * 5000  # 115k characters
    assert language.detect(long_text) == language.detect(long_text + " English words " * 10_000)
    assert language.detect(SIMPLIFIED * 20 + "plain English words only here " * 5000) == language.detect(
        SIMPLIFIED * 20
    )
