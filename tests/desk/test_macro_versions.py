"""The macro picker carries the ticket's version too (#18, live desk): "Send now" of a page that
went stale is refused like the reply and properties forms (nothing applied, nothing mailed),
"Insert" passes the version on to the reply form it fills."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from walletdesk.desk.models import Macro
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Status, Team, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob2() -> Any:
    """A second agent of the general team (the shared `bob` is on the security desk)."""
    from tests.conftest import _make_user

    return _make_user("bob@general.test", staff=True, teams=("general",))


@pytest.fixture
def reopen() -> Macro:
    """A macro that sets the status back to open and answers the customer."""
    return Macro.objects.create(
        name="Reopen and answer",
        body_en="Hi {customer_name}, we are looking into {reference} again.",
        body_zh="{customer_name}您好，我们正在重新处理 {reference}。",
        set_status=Status.OPEN,
    )


@pytest.fixture
def escalate() -> Macro:
    """A macro that also changes properties: priority and team."""
    return Macro.objects.create(
        name="Escalate",
        body_en="We have escalated {reference}.",
        body_zh="我们已升级 {reference}。",
        set_priority="high",
        set_team=Team.objects.get(slug="general"),
    )


def new_ticket() -> Ticket:
    return actions.create_ticket(
        NewTicket(
            subject="Need help", body="The app shows error 1003", category="other", email="guest@example.com"
        )
    )


def page_version(html: str) -> str:
    found = re.findall(r'name="version" value="(\d+)"', html)
    assert found and len(set(found)) == 1, found
    return found[0]


def picker_version(html: str) -> str:
    picker = re.search(r'<form[^>]*data-testid="macros".*?</form>', html, re.S)
    assert picker is not None
    return page_version(picker.group(0))


def open_page(client: Client, ticket: Ticket) -> str:
    page = client.get(f"/agent/tickets/{ticket.reference}/")
    assert page.status_code == 200
    return picker_version(page.content.decode())


def send(client: Client, ticket: Ticket, macro: Macro, **data: Any) -> Any:
    return client.post(
        f"/agent/tickets/{ticket.reference}/macro/", {"macro": macro.pk, "mode": "send", **data}
    )


def agent_messages(ticket: Ticket, agent: Any) -> int:
    return Message.objects.filter(ticket=ticket, author_user=agent).count()


def test_the_picker_carries_the_pages_version(alice: Any, as_user: Any, reopen: Macro) -> None:
    ticket = new_ticket()
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert picker_version(page) == page_version(page) == str(ticket.version)


def test_a_stale_send_now_does_not_reopen_a_solved_ticket(
    alice: Any, bob2: Any, as_user: Any, reopen: Macro
) -> None:
    ticket = new_ticket()
    a, b = as_user(alice), as_user(bob2)
    seen_by_alice = open_page(a, ticket)
    solved = b.post(
        f"/agent/tickets/{ticket.reference}/update/",
        {
            "status": "solved",
            "priority": "normal",
            "assignee": "",
            "team": ticket.team_id or "",
            "version": open_page(b, ticket),
        },
    )
    assert solved.status_code == 302
    mails = len(mail.outbox)

    stale = send(a, ticket, reopen, version=seen_by_alice)
    assert stale.status_code == 409
    html = stale.content.decode()
    assert 'data-testid="stale"' in html
    assert re.search(r"changed by Bob \d+ s ago: status Solved", html), html
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert agent_messages(ticket, alice) == 0
    assert not TicketEvent.objects.filter(ticket=ticket, actor=alice).exists()
    assert len(mail.outbox) == mails
    # The page again as it is now: the picker has this macro chosen and the current version.
    assert page_version(html) == str(ticket.version)
    assert f'<option value="{reopen.pk}" selected>' in html and 'data-testid="macro-send-anyway"' in html

    # Having seen it, she sends it again from the version she now has: it applies.
    again = send(a, ticket, reopen, version=picker_version(html))
    assert again.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert agent_messages(ticket, alice) == 1
    assert len(mail.outbox) == mails + 1


def test_a_fresh_send_now_applies(alice: Any, as_user: Any, reopen: Macro, escalate: Macro) -> None:
    ticket = new_ticket()
    a = as_user(alice)
    assert send(a, ticket, escalate, version=open_page(a, ticket)).status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("high", Status.OPEN)
    assert send(a, ticket, reopen, version=open_page(a, ticket)).status_code == 302
    assert agent_messages(ticket, alice) == 2


def test_a_reply_meanwhile_asks_for_a_confirmation(
    alice: Any, bob2: Any, as_user: Any, reopen: Macro
) -> None:
    ticket = new_ticket()
    a, b = as_user(alice), as_user(bob2)
    seen_by_alice = open_page(a, ticket)
    reply = b.post(
        f"/agent/tickets/{ticket.reference}/reply/", {"body": "Bob's answer", "version": open_page(b, ticket)}
    )
    assert reply.status_code == 302
    mails = len(mail.outbox)

    asked = send(a, ticket, reopen, version=seen_by_alice)
    assert asked.status_code == 409
    html = asked.content.decode()
    assert 'data-testid="reply-collision"' in html and 'data-testid="macro-send-anyway"' in html
    assert re.search(r"changed by Bob \d+ s ago: replied to the customer", html), html
    assert "Bob&#x27;s answer" in html  # the thread shows what Bob said
    assert agent_messages(ticket, alice) == 0 and len(mail.outbox) == mails

    # "Send anyway" carries the version she has now seen.
    current = picker_version(html)
    assert current == str(Ticket.objects.get(pk=ticket.pk).version)
    assert send(a, ticket, reopen, version=current).status_code == 302
    assert agent_messages(ticket, alice) == 1 and len(mail.outbox) == mails + 1


def test_a_macro_that_sets_properties_is_checked_like_the_properties_form(
    alice: Any, bob2: Any, as_user: Any, escalate: Macro
) -> None:
    ticket = new_ticket()
    a = as_user(alice)
    seen = open_page(a, ticket)
    actions.assign(ticket, bob2, actor=bob2)  # not a reply, not the status: still a change
    mails = len(mail.outbox)
    stale = send(a, ticket, escalate, version=seen)
    assert stale.status_code == 409
    assert re.search(r"changed by Bob \d+ s ago: assignee Bob", stale.content.decode())
    ticket.refresh_from_db()
    assert ticket.priority == "normal" and agent_messages(ticket, alice) == 0 and len(mail.outbox) == mails
    # A reply meanwhile as well: the reply's confirmation is asked, nothing half applied.
    actions.add_customer_message(ticket, "any news?", channel="web")
    asked = send(a, ticket, escalate, version=seen)
    assert asked.status_code == 409 and 'data-testid="reply-collision"' in asked.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == "normal" and agent_messages(ticket, alice) == 0
    assert send(a, ticket, escalate, version=ticket.version).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "high" and agent_messages(ticket, alice) == 1


def test_insert_carries_the_version_into_the_reply_form(
    alice: Any, bob2: Any, as_user: Any, reopen: Macro
) -> None:
    ticket = new_ticket()
    a = as_user(alice)
    seen = open_page(a, ticket)
    actions.add_agent_message(ticket, "Bob's answer", agent=bob2)
    filled = a.post(
        f"/agent/tickets/{ticket.reference}/macro/", {"macro": reopen.pk, "mode": "fill", "version": seen}
    )
    assert filled.status_code == 200
    html = filled.content.decode()
    reply_form = re.search(r'<form[^>]*class="form reply".*?</form>', html, re.S)
    assert reply_form is not None
    assert "we are looking into" in reply_form.group(0)
    assert page_version(reply_form.group(0)) == seen  # the version she chose the macro on
    assert agent_messages(ticket, alice) == 0
    # So its later Send is checked against it: Bob's reply asks for a confirmation.
    body = re.search(r"<textarea[^>]*>\s*(.*?)</textarea>", reply_form.group(0), re.S)
    assert body is not None
    asked = a.post(
        f"/agent/tickets/{ticket.reference}/reply/",
        {"body": body.group(1), "status": "open", "version": seen},
    )
    assert asked.status_code == 409 and 'data-testid="reply-collision"' in asked.content.decode()
    # htmx fills only the reply box; the reply form keeps the page's version.
    box = a.post(
        f"/agent/tickets/{ticket.reference}/macro/",
        {"macro": reopen.pk, "mode": "fill", "version": seen},
        HTTP_HX_REQUEST="true",
    )
    assert box.status_code == 200 and 'id="id_body"' in box.content.decode()


def test_malformed_and_missing_versions(
    alice: Any, bob2: Any, as_user: Any, reopen: Macro, escalate: Macro
) -> None:
    ticket = new_ticket()
    actions.change_status(ticket, Status.SOLVED, actor=bob2)
    a = as_user(alice)
    for forged in ("7; DROP", "-1", "0", "99999999999999999999999"):
        refused = send(a, ticket, reopen, version=forged)
        assert refused.status_code == 302, forged
        assert "damaged or out of date" in a.get(refused["Location"]).content.decode()
    fill = a.post(
        f"/agent/tickets/{ticket.reference}/macro/", {"macro": reopen.pk, "mode": "fill", "version": "x"}
    )
    assert fill.status_code == 302
    htmx = a.post(
        f"/agent/tickets/{ticket.reference}/macro/",
        {"macro": reopen.pk, "mode": "fill", "version": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert htmx.status_code == 400 and htmx["HX-Redirect"] == f"/agent/tickets/{ticket.reference}/"
    # Higher than the ticket's: as stale as a lower one for a macro that sets properties.
    ticket.refresh_from_db()
    assert send(a, ticket, escalate, version=ticket.version + 5).status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED
    assert agent_messages(ticket, alice) == 0
    # Left out (a page from before versions, a script): applied unchecked, as before.
    assert send(a, ticket, reopen).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert agent_messages(ticket, alice) == 1


def test_other_teams_and_customers_are_refused_as_before(
    alice: Any, carol: Any, as_user: Any, reopen: Macro
) -> None:
    secure = actions.create_ticket(
        NewTicket(subject="Stolen", body="someone took it", category="account_stolen", user=carol)
    )
    a = as_user(alice)
    assert send(a, secure, reopen, version=secure.version).status_code == 404
    assert send(a, secure, reopen, version=99).status_code == 404
    assert send(a, secure, reopen, version="nope").status_code == 404
    assert send(as_user(carol), secure, reopen, version=secure.version).status_code == 403  # the owner
    assert not Message.objects.filter(ticket=secure, author_role="agent").exists()
    assert Ticket.objects.get(pk=secure.pk).status == secure.status
