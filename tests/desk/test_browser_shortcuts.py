"""The inbox and the ticket page driven from the keyboard in a real browser (#18, live desk):
j / x pick rows for a bulk assign, Enter opens one, r writes a reply, ] goes to the next ticket
in the inbox's order, ? shows the help in the page's language.

Screenshots land in test-artifacts/desk-bulk/ (en and zh-hans; phone 390x844, desktop 1280x800).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def new_ticket(subject: str) -> Ticket:
    return actions.create_ticket(
        NewTicket(
            subject=subject, body="The app shows error 1003", category="other", email="guest@example.com"
        )
    )


def test_keyboard_bulk_assign_open_reply_and_help(live_server: Any, alice: Any) -> None:
    oldest, middle, newest = (new_ticket(s) for s in ("Oldest request", "Middle request", "Newest request"))
    base = live_server.url
    inbox = f"{base}/agent/?view=all&sort=new"
    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="en-US")
        context.add_cookies([login_cookie(alice, base)])
        page = context.new_page()
        page.goto(inbox)

        # j moves to the first row, x ticks it, j x the second; the form's "Assign to me".
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("x")  # x again unticks...
        page.keyboard.press("x")  # ...and ticks
        rows = page.locator("table[data-inbox] tr[data-ticket]")
        assert rows.nth(1).get_attribute("class").split()[-1] == "kb-current"
        assert page.locator("input[name=t]:checked").count() == 2
        shot(page, "desk-bulk/en-desktop-selected")
        with page.expect_navigation():
            page.click("[data-testid=bulk-assign-me]")
        assert _eventually(lambda: Ticket.objects.filter(assignee=alice).count() == 2)
        flash = page.locator("ul.flash")
        assert "2 tickets updated." in (flash.inner_text() if flash.count() else ""), (
            page.url,
            page.locator("main").inner_text()[:2000],
        )
        assert page.url == inbox  # back to the same view and sort
        assert {t.pk for t in Ticket.objects.filter(assignee=alice)} == {newest.pk, middle.pk}
        assert Ticket.objects.get(pk=oldest.pk).assignee_id is None
        shot(page, "desk-bulk/en-desktop-inbox")

        # Typing in the search box is not a shortcut.
        page.fill("input[name=q]", "")
        page.focus("input[name=q]")
        page.keyboard.type("jx")
        assert page.locator("input[name=t]:checked").count() == 0
        assert page.locator("tr.kb-current").count() == 0

        # Enter opens the current row; r focuses the reply.
        page.locator("input[name=q]").evaluate("el => el.blur()")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/agent/tickets/{newest.reference}/")
        page.keyboard.press("r")
        assert page.evaluate("document.activeElement.name") == "body"
        page.keyboard.type("Please update the app and try again.")
        page.click("form.reply button[type=submit]")
        page.wait_for_selector("text=Please update the app and try again.")
        assert Message.objects.filter(ticket=newest, author_user=alice, visibility="public").count() == 1

        # n: an internal note, not a reply.
        page.keyboard.press("n")
        assert page.is_checked("form.reply input[name=internal]")
        assert page.evaluate("document.activeElement.name") == "body"

        # ? shows the help; Escape closes it.
        page.locator("textarea[name=body]").evaluate("el => el.blur()")
        page.keyboard.press("?")
        help_ = page.locator("[data-testid=shortcut-help]")
        assert help_.is_visible() and "Assign to me" in help_.inner_text()
        shot(page, "desk-bulk/en-desktop-help")
        page.keyboard.press("Escape")
        assert not help_.is_visible()

        # ] goes to the next ticket in the inbox's order, [ back.
        page.keyboard.press("]")
        page.wait_for_url(f"**/agent/tickets/{middle.reference}/")
        page.keyboard.press("[")
        page.wait_for_url(f"**/agent/tickets/{newest.reference}/")

        # a: assign to me; s: solved, saved with the version the page shows.
        page.goto(f"{base}/agent/tickets/{oldest.reference}/")
        page.keyboard.press("a")
        page.wait_for_selector("form[data-shortcut=take]", state="detached")
        # The live ticket page swaps its header on a nudge, which detaches the form too: the
        # take's response may still be on its way, so wait for the page it leads to.
        page.wait_for_load_state()
        assert _eventually(lambda: Ticket.objects.get(pk=oldest.pk).assignee_id == alice.pk)
        page.keyboard.press("s")
        page.wait_for_selector(".ticket-head .status-solved")
        assert _eventually(lambda: Ticket.objects.get(pk=oldest.pk).status == "solved")
        context.close()

        # The same pages in Chinese and on a phone.
        for viewport, size in ((PHONE, "phone"), (DESKTOP, "desktop")):
            for locale, lang in (("zh-CN", "zh-hans"), ("en-US", "en")):
                kw = {"is_mobile": True, "has_touch": True} if size == "phone" else {}
                context = browser.new_context(viewport=viewport, locale=locale, **kw)
                context.add_cookies([login_cookie(alice, base)])
                page = context.new_page()
                page.goto(inbox)
                page.keyboard.press("j")
                page.keyboard.press("x")
                if not (size == "desktop" and lang == "en"):
                    shot(page, f"desk-bulk/{lang}-{size}-inbox")
                page.goto(f"{base}/agent/tickets/{oldest.reference}/")
                page.keyboard.press("?")
                help_ = page.locator("[data-testid=shortcut-help]")
                assert help_.is_visible()
                if lang == "zh-hans":
                    assert "键盘快捷键" in help_.inner_text()
                if not (size == "desktop" and lang == "en"):
                    shot(page, f"desk-bulk/{lang}-{size}-help")
                context.close()


def _eventually(check: Callable[[], bool], seconds: float = 30.0) -> bool:
    """True once `check` is; False if it never is within `seconds` (the assertion then fails)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
