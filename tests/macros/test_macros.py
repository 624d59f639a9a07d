"""Macros: placeholders, language, field changes; only agents who see the ticket apply them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from walletdesk.desk import macros
from walletdesk.desk.models import Macro
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket


@pytest.fixture
def ticket(db: None, carol: Any) -> Ticket:
    return actions.create_ticket(
        NewTicket(subject="Fee", body="Why?", user=carol, category="fees", language="zh", name="Carol")
    )


@pytest.fixture
def stolen(db: None, dave: Any) -> Ticket:
    return actions.create_ticket(
        NewTicket(subject="Stolen", body="Hacked", user=dave, category="account_stolen")
    )


def test_shipped_macros_are_bilingual(db: None) -> None:
    shipped = list(Macro.objects.all())
    assert len(shipped) >= 4
    assert all(m.body_en and m.body_zh for m in shipped)


def test_placeholders_render_in_the_customers_language(ticket: Ticket, alice: Any) -> None:
    macro = Macro(
        name="t",
        body_en="Hi {customer_name}, {reference}: {article:find-transaction-hash} {x}",
        body_zh="{customer_name}您好 {reference} {article:find-transaction-hash} {unknown}",
    )
    text = macros.render(macro, ticket, alice).body
    assert ticket.reference in text and "/help/a/find-transaction-hash/" in text
    assert text.startswith("Carol您好") and "{unknown}" in text  # unknown placeholders stay visible
    ticket.language = "en"
    assert macros.render(macro, ticket, alice).body.startswith("Hi Carol")


def test_htmx_fill_returns_the_reply_box(ticket: Ticket, alice: Any, as_user: Any) -> None:
    macro = Macro.objects.get(name__startswith="Ask for transaction hash")
    response = as_user(alice).post(
        f"/agent/tickets/{ticket.reference}/macro/",
        {"macro": macro.pk, "mode": "fill"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_body"' in body and ticket.reference in body and "交易哈希" in body
    assert not Message.objects.filter(ticket=ticket, author_role="agent").exists()  # nothing sent


def test_send_applies_reply_and_field_changes(ticket: Ticket, bob: Any, root: Any, as_user: Any) -> None:
    macro = Macro.objects.get(name__startswith="Escalate to security")
    response = as_user(root).post(
        f"/agent/tickets/{ticket.reference}/macro/", {"macro": macro.pk, "mode": "send"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team.slug, ticket.status) == ("urgent", "security", "open")
    assert Message.objects.filter(ticket=ticket, author_role="agent", visibility="public").count() == 1


def test_macro_apply_refused_to_wrong_personas(
    stolen: Ticket, alice: Any, carol: Any, dave: Any, as_user: Any
) -> None:
    macro = Macro.objects.first()
    assert macro is not None
    url = f"/agent/tickets/{stolen.reference}/macro/"
    # alice is an agent but not in the restricted security desk: the ticket does not exist for her.
    assert as_user(alice).post(url, {"macro": macro.pk, "mode": "send"}).status_code == 404
    assert (
        as_user(dave).post(url, {"macro": macro.pk, "mode": "send"}).status_code == 403
    )  # customer, even the owner
    assert as_user(carol).post(url, {"macro": macro.pk}).status_code == 403
    anonymous = Client().post(url, {"macro": macro.pk, "mode": "send"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert not Message.objects.filter(ticket=stolen, author_role="agent").exists()


def test_macro_apply_is_post_only(ticket: Ticket, alice: Any, as_user: Any) -> None:
    assert as_user(alice).get(f"/agent/tickets/{ticket.reference}/macro/").status_code == 405


def test_ticket_page_shows_the_macro_picker(ticket: Ticket, alice: Any, as_user: Any) -> None:
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert 'data-testid="macros"' in page and "countdown.js" in page
