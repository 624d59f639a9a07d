"""The desk's "similar solved tickets" panel (#22): what it shows, and to whom.

One model for the whole run (walletdesk.kb.dense.encoder is process-wide); each solved ticket
costs it ~0.3 s here, so there are few.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import client_for
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.actions.vectors import embed_solved_ticket
from walletdesk.tickets.models import SolvedTicketVector, Status, Team, Ticket

pytestmark = pytest.mark.django_db

NOTE = "INTERNAL-ONLY the customer sounded like a scammer, check ticket 9"
ANSWER = "Your transfer was on the wrong network. Ask the exchange to credit it with this hash."


@pytest.fixture(autouse=True)
def _dense(settings: Any) -> None:
    settings.KB_DENSE = True
    settings.KB_INDEX_CHECK_SECONDS = 0


def _solved(subject: str, body: str, agent: Any, *, team: str | None = None, answer: str = ANSWER) -> Ticket:
    ticket = actions.create_ticket(
        NewTicket(subject=subject, body=body, category="other", email="someone@example.com")
    )
    if team:
        actions.set_team(ticket, Team.objects.get(slug=team), actor=agent)
    actions.add_agent_message(ticket, NOTE, agent=agent, internal=True)
    actions.add_agent_message(ticket, answer, agent=agent)
    actions.add_agent_message(ticket, NOTE + " (after the answer)", agent=agent, internal=True)
    return actions.change_status(Ticket.objects.get(pk=ticket.pk), Status.SOLVED, actor=agent)


@pytest.fixture
def tickets(alice: Any, bob: Any, root: Any) -> dict[str, Ticket]:
    general = _solved("USDT transfer not received", "I sent USDT to my exchange but it never arrived", root)
    security = _solved(
        "Transfer missing after sending",
        "My USDT transfer to the exchange has not arrived",
        root,
        team="security",
    )
    unrelated = _solved(
        "Change the app language",
        "How do I switch the app to Chinese?",
        root,
        answer="Open Me, Settings, Language and choose 简体中文.",
    )
    current = actions.create_ticket(
        NewTicket(
            subject="转账没到账",
            body="我把USDT转到交易所了，但是一直没到账",
            category="other",
            email="carol@example.com",
        )
    )
    return {"general": general, "security": security, "unrelated": unrelated, "current": current}


def _panel(client: Client, ticket: Ticket) -> Any:
    return client.get(f"/agent/tickets/{ticket.reference}/similar/", HTTP_HX_REQUEST="true")


def test_an_agent_sees_only_similar_solved_tickets_they_may_open_and_customers_none(
    tickets: dict[str, Ticket], alice: Any, bob: Any, carol: Any
) -> None:
    stored = SolvedTicketVector.objects.get(pk=tickets["general"].pk)
    assert ANSWER in stored.answer and "INTERNAL-ONLY" not in stored.question + stored.answer

    html = _panel(client_for(alice), tickets["current"]).content.decode()
    assert tickets["general"].reference in html and ANSWER.split(".")[0] in html
    # alice (General) could not open the Security desk's ticket, so it is not listed for her
    assert tickets["security"].reference not in html
    assert tickets["unrelated"].reference not in html
    assert "INTERNAL-ONLY" not in html

    html = _panel(client_for(bob), tickets["current"]).content.decode()  # bob is on the Security desk
    assert tickets["security"].reference in html and "INTERNAL-ONLY" not in html

    # A customer, even the ticket's own requester, and a guest: no panel.
    assert _panel(client_for(carol), tickets["current"]).status_code in (302, 403, 404)
    assert _panel(Client(), tickets["current"]).status_code in (302, 403, 404)
    # alice may not open the Security ticket, so not its panel either (the 404 of no ticket).
    assert _panel(client_for(alice), tickets["security"]).status_code == 404
    # The customer's own pages never show another ticket's answer or an internal note.
    page = client_for(carol).get(f"/requests/{tickets['current'].reference}/")
    assert "INTERNAL-ONLY" not in page.content.decode()
    assert tickets["general"].reference not in page.content.decode()


def test_embedding_a_ticket_is_idempotent_and_reopening_drops_it(root: Any) -> None:
    ticket = _solved("USDT transfer not received", "I sent USDT to my exchange but it never arrived", root)
    assert SolvedTicketVector.objects.filter(pk=ticket.pk).exists()
    assert embed_solved_ticket(ticket.pk) == "unchanged"  # a duplicate task writes nothing
    actions.change_status(Ticket.objects.get(pk=ticket.pk), Status.OPEN, actor=root)
    assert not SolvedTicketVector.objects.filter(pk=ticket.pk).exists()
    assert embed_solved_ticket(ticket.pk) == "nothing"  # and a late duplicate does not bring it back
