"""Every ticket's text is triaged, a chosen category included; security wins, and says why.

Policy (tickets.screening.triage_ticket): when the text matches account_stolen or
unauthorised_tx with confidence (score >= TRIAGE_OVERRIDE_MIN_SCORE) and the customer chose a
non-security category, triage's category, priority and team win and the ticket records why;
otherwise the customer's category stands and triage's suggestion is recorded.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from walletdesk.tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def web_form(category: str, subject: str, body: str) -> Ticket:
    response = Client().post(
        "/new/", {"category": category, "email": "filer@example.com", "subject": subject, "body": body}
    )
    assert response.status_code == 302, re.findall(r"error[^<]*<[^>]*>[^<]*", response.content.decode())
    return Ticket.objects.select_related("category", "team").latest("pk")


def test_stolen_account_filed_under_something_else_reaches_the_security_desk_urgently() -> None:
    ticket = web_form(
        "other", "Question", "Someone logged into my account and my password was changed, I was hacked"
    )
    assert ticket.category is not None and ticket.category.slug == "account_stolen"
    assert ticket.priority == "urgent"
    assert ticket.team is not None and ticket.team.slug == "security"
    assert ticket.triage["overrode"] is True and ticket.triage["customer_category"] == "other"
    assert "account_stolen" in ticket.triage["reason"] and "customer chose 'other'" in ticket.triage["reason"]
    event = TicketEvent.objects.get(ticket=ticket, kind="triage_override")
    assert event.data["customer_category"] == "other" and event.data["category"] == "account_stolen"


def test_chinese_unauthorised_transfer_filed_under_fees_is_overridden_through_the_api() -> None:
    response = Client().post(
        "/api/v1/tickets",
        {
            "email": "zh@example.cn",
            "subject": "手续费问题",
            "body": "我的USDT被转走了，不是我本人操作的",
            "category": "fees",
            "language": "zh-hans",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    ticket = Ticket.objects.select_related("category", "team").get(reference=response.json()["reference"])
    assert ticket.category is not None and ticket.category.slug == "unauthorised_tx"
    assert ticket.priority == "urgent" and ticket.team is not None and ticket.team.slug == "security"


def test_a_matching_or_weak_or_negated_text_keeps_the_customers_category() -> None:
    fees = web_form("fees", "Gas fee", "Why is the network fee so high today?")
    assert fees.category is not None and fees.category.slug == "fees"
    assert fees.triage["overrode"] is False and fees.triage["category"] == "fees"
    # One weak signal (an unknown address, weight 1) is a suggestion, not an override.
    weak = web_form("other", "Address", "I see an unknown address in my contacts list")
    assert weak.category is not None and weak.category.slug == "other" and weak.priority != "urgent"
    assert weak.triage["category"] == "unauthorised_tx" and weak.triage["overrode"] is False
    assert "triage suggested 'unauthorised_tx'" in weak.triage["reason"]
    negated = web_form("other", "Fees", "I was not hacked, I only want to know about fees")
    assert negated.category is not None and negated.category.slug == "other"
    assert not TicketEvent.objects.filter(kind="triage_override").exists()


def test_a_security_choice_is_never_downgraded(settings: Any) -> None:
    response = Client().post(
        "/api/v1/tickets",
        {
            "email": "x@example.com",
            "subject": "Fee question",
            "body": "How much is the gas fee to send USDT?",
            "category": "unauthorised_tx",
        },
        content_type="application/json",
    )
    ticket = Ticket.objects.select_related("category", "team").get(reference=response.json()["reference"])
    assert ticket.category is not None and ticket.category.slug == "unauthorised_tx"
    assert ticket.priority == "urgent" and ticket.team is not None and ticket.team.slug == "security"
    assert ticket.triage["overrode"] is False


def test_the_threshold_is_a_setting(settings: Any) -> None:
    settings.TRIAGE_OVERRIDE_MIN_SCORE = 10.0
    ticket = web_form("other", "Question", "I was hacked")
    assert ticket.category is not None and ticket.category.slug == "other"
    assert ticket.triage["category"] == "account_stolen" and ticket.triage["overrode"] is False
