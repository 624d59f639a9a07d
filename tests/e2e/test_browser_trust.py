"""The trust fixes as people see them, in a real browser, on a phone in Chinese and a desktop
in English: a guest types carol's address and pastes a recovery phrase into a fact field; the
Security desk sees the banner and an unproven requester, with no account actions; carol confirms
the request from the mailed link and then finds it under My requests.

Screenshots go to test-artifacts/trust/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from mnemonic import Mnemonic

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

CASES = [("zh-CN", PHONE, "chinese_simplified"), ("en-US", DESKTOP, "english")]


@pytest.mark.parametrize(("locale", "viewport", "wordlist"), CASES, ids=["zh-phone", "en-desktop"])
def test_a_guest_using_carols_address_gets_no_account_and_the_desk_sees_the_risk(
    live_server: Any, carol: Any, bob: Any, locale: str, viewport: dict[str, int], wordlist: str
) -> None:
    phrase = Mnemonic(wordlist).generate(128)
    base = live_server.url
    mobile = viewport is PHONE
    with chromium() as browser:
        guest = browser.new_context(viewport=viewport, locale=locale, is_mobile=mobile).new_page()
        guest.goto(f"{base}/new/?category=login_locked")
        guest.fill("#id_email", carol.email)
        guest.fill("#id_account", carol.email)
        guest.fill("#id_subject", "账户登录不了" if mobile else "I cannot sign in")
        guest.fill("#id_body", "请帮我看看" if mobile else "Please help me get back in.")
        if guest.locator("#id_error_code").count():
            guest.fill("#id_error_code", phrase)
        else:
            guest.fill("#id_body", f"my words: {phrase}")
        guest.click("button[type=submit].primary")
        guest.wait_for_selector("[data-testid=reference]")
        reference = guest.inner_text("[data-testid=reference]")
        shot(guest, f"trust/{locale}-guest-submitted")

        ticket = Ticket.objects.get(reference=reference)
        assert ticket.team is not None and ticket.team.slug == "security"
        assert ticket.contact.user_id is None  # a claim, not carol's account

        desk = browser.new_context(viewport=DESKTOP, locale=locale)
        desk.add_cookies([login_cookie(bob, base)])
        agent = desk.new_page()
        agent.goto(f"{base}/agent/tickets/{reference}/")
        banner = agent.inner_text("[data-testid=secret-banner]")
        assert (
            ("泄露" in banner or "助记词" in banner)
            if mobile
            else ("treat the wallet as compromised" in banner)
        )
        assert agent.locator("[data-testid=identity-unproven]").count() == 1
        assert agent.locator("form[action*='unlock']").count() == 0
        assert phrase.split()[0] + " " + phrase.split()[1] not in agent.content()
        shot(agent, f"trust/{locale}-desk-unproven-with-banner")

        # Carol opens the link from the acknowledgement mail and confirms.
        link = next(
            m.group(0)
            for message in mail.outbox
            if carol.email in message.to
            for m in [re.search(r"https?://\S+/confirm/\S+", message.body)]
            if m
        )
        owner = browser.new_context(viewport=viewport, locale=locale, is_mobile=mobile)
        owner.add_cookies([login_cookie(carol, base)])
        page = owner.new_page()
        page.goto(link.replace("http://testserver", base).replace("http://127.0.0.1:8000", base))
        page.wait_for_selector("[data-testid=confirm-claim]")
        shot(page, f"trust/{locale}-confirm-page")
        page.click("[data-testid=confirm-button]")
        page.goto(f"{base}/requests/")
        assert reference in page.content()
        shot(page, f"trust/{locale}-my-requests-after-confirm")
        agent.reload()
        assert agent.locator("[data-testid=identity-unproven]").count() == 0
