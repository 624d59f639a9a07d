"""The whole ticket loop in a real browser.

A customer on a phone files a request in Chinese; an agent on a desktop finds it, replies and
solves it; the customer opens their tracking link and reads the reply.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from walletdesk.tickets.models import Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_chinese_phone_request_answered_by_agent(live_server: Any, alice: Any) -> None:
    base = live_server.url
    with chromium() as browser:
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = phone.new_page()
        page.goto(f"{base}/")
        # LocaleMiddleware follows the browser's Accept-Language: the help centre is in Chinese.
        assert "联系客服" in page.content()
        shot(page, "tickets/zh-phone-home")

        page.goto(f"{base}/new/")
        page.select_option("#id_category", "login_locked")
        page.wait_for_selector("#id_account")  # htmx swapped in this category's fields
        page.fill("#id_account", "wang@example.com")
        page.fill("#id_app_version", "2.15.3")
        page.fill("#id_email", "wang@example.com")
        page.fill("#id_subject", "账户被锁定，无法登录")
        page.fill("#id_body", "我输错了几次密码，现在提示账户已锁定，请帮我解锁。")
        shot(page, "tickets/zh-phone-form")
        page.click("button[type=submit].primary")
        page.wait_for_selector("[data-testid=reference]")
        reference = page.inner_text("[data-testid=reference]")
        assert reference.startswith("WD-")
        assert page.inner_text("[data-testid=promise]")
        shot(page, "tickets/zh-phone-submitted")
        tracking = page.get_attribute("a.button.primary", "href")
        assert tracking and "/track/" in tracking

        ticket = Ticket.objects.get(reference=reference)
        assert ticket.language == "zh-hans" and ticket.app_version == "2.15.3"

        desk = browser.new_context(viewport=DESKTOP, locale="en-US")
        desk.add_cookies([login_cookie(alice, base)])
        agent = desk.new_page()
        agent.goto(f"{base}/agent/?view=unassigned")
        agent.fill("input[name=q]", "锁定")
        agent.click(".filters button")
        # The row's link: the bulk "merge into" list names the reference too (in a closed select).
        row_link = f"a:has(.reference:text-is('{reference}'))"
        agent.wait_for_selector(row_link)
        shot(agent, "tickets/en-desktop-inbox")
        agent.click(row_link)
        agent.wait_for_selector("textarea[name=body]")
        agent.fill("textarea[name=body]", "您好，我们已为您解锁账户，请使用新密码重新登录。")
        agent.select_option("select[name=status]", "solved")
        agent.click("form.reply button[type=submit]")
        agent.wait_for_selector(".flash")
        shot(agent, "tickets/en-desktop-ticket")
        ticket.refresh_from_db()
        assert ticket.status == Status.SOLVED

        page.goto(f"{base}{tracking}")
        page.wait_for_selector("[data-testid=message-agent]")
        assert "我们已为您解锁账户" in page.inner_text("[data-testid=message-agent]")
        shot(page, "tickets/zh-phone-reply")
