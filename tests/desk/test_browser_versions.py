"""Two agents in two real browsers on one ticket: Bob solves it; Alice's stale page can neither
reopen it nor send her reply without seeing Bob's and confirming."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from tests.browser import DESKTOP, chromium, login_cookie, shot
from tests.conftest import _make_user
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_two_agents_on_one_ticket(live_server: Any, alice: Any) -> None:
    bob = _make_user("bob@general.test", staff=True, teams=("general",))
    ticket = actions.create_ticket(
        NewTicket(subject="Need help", body="error 1003", category="other", email="guest@example.com")
    )
    base, url = live_server.url, f"{live_server.url}/agent/tickets/{ticket.reference}/"
    with chromium() as browser:
        pages = {}
        for who, user in (("alice", alice), ("bob", bob)):
            context = browser.new_context(viewport=DESKTOP, locale="en-US")
            context.add_cookies([login_cookie(user, base)])
            pages[who] = context.new_page()
            pages[who].goto(url)
        a, b = pages["alice"], pages["bob"]
        a2 = a.context.new_page()  # Alice's second tab, also opened before Bob's change
        a2.goto(url)

        # Bob replies and solves.
        b.fill("textarea[name=body]", "Fixed on our side, please try again.")
        b.select_option("form.reply select[name=status]", "solved")
        b.click("form.reply button[type=submit]")
        b.wait_for_selector("text=Fixed on our side")
        assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED
        mails = len(mail.outbox)

        # Alice's page still says "New": she sets the priority and saves, which would reopen it.
        a.select_option("aside select[name=priority]", "high")
        a.click("form[action$='/update/'] button[type=submit]")
        banner = a.wait_for_selector("[data-testid=stale]")
        assert "changed by Bob" in banner.inner_text() and "status Solved" in banner.inner_text()
        shot(a, "desk/stale-properties")
        fresh = Ticket.objects.get(pk=ticket.pk)
        assert (fresh.status, fresh.priority) == (Status.SOLVED, "normal")
        assert len(mail.outbox) == mails

        # Her reply, typed on a page opened before Bob's: asked to confirm, kept as typed.
        a = a2
        a.fill("textarea[name=body]", "Have you tried restarting the app?")
        a.click("form.reply button[type=submit]")
        a.wait_for_selector("[data-testid=reply-collision]")
        assert a.input_value("textarea[name=body]") == "Have you tried restarting the app?"
        assert not Message.objects.filter(ticket=ticket, author_user=alice).exists()
        shot(a, "desk/reply-collision")
        a.click("[data-testid=send-anyway]")
        a.wait_for_selector("text=Have you tried restarting the app?")
        assert Message.objects.filter(ticket=ticket, author_user=alice).count() == 1
