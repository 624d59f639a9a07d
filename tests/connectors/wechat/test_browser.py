"""The WeChat reply window in a real browser, phone and desktop, English and Chinese: the
composer says when the window closes and how many messages are left; once closed it gives
the reason, refuses a reply, and sends the template message instead.

Screenshots: test-artifacts/wechat/window-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from tests.connectors.standin import StandIn
from tests.connectors.wechat import wx
from tests.connectors.wechat.conftest import TEMPLATE, push
from walletdesk.connectors.social.models import SocialAccount
from walletdesk.tickets.models import Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

LANGUAGES: dict[str, dict[str, Any]] = {
    "en": {"locale": "en-US"},
    "zh": {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-hans"}},
}


def test_the_reply_window_on_phone_and_desktop_in_both_languages(
    live_server: Any, template_account: SocialAccount, api: StandIn, alice: Any
) -> None:
    assert (
        push(Client(), wx.text("我的提现三天没到账，订单号 8812", 6054768590064716001)).content == b"success"
    )
    ticket = Ticket.objects.get(channel="wechat")
    url = f"{live_server.url}/agent/tickets/{ticket.reference}/"
    with chromium() as browser:

        def open_page(language: str, viewport: dict[str, int]) -> Any:
            context = browser.new_context(viewport=viewport, **LANGUAGES[language])
            context.add_cookies([login_cookie(alice, live_server.url)])
            page = context.new_page()
            page.goto(url)
            return page

        # Open: when it closes and how many are left (the acknowledgement used one).
        for language, viewport, label in (
            ("en", DESKTOP, "desktop"),
            ("zh", PHONE, "phone"),
            ("en", PHONE, "phone"),
            ("zh", DESKTOP, "desktop"),
        ):
            page = open_page(language, viewport)
            banner = page.locator("[data-testid=reply-window]").inner_text()
            assert ("4 of 5 left" if language == "en" else "剩余 4 / 5 条") in banner
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            shot(page, f"wechat/window-open-{language}-{label}")
            page.context.close()

        # 49 hours later: closed, with the reason; a reply is refused, the template offered.
        Ticket.objects.filter(pk=ticket.pk).update(
            last_customer_message_at=timezone.now() - timedelta(hours=49)
        )
        for language, viewport, label in (("zh", PHONE, "phone"), ("en", DESKTOP, "desktop")):
            page = open_page(language, viewport)
            banner = page.locator("[data-testid=reply-window]").inner_text()
            assert ("48 hours" if language == "en" else "48 小时") in banner
            page.fill("textarea[name=body]", "Sorry for the wait." if language == "en" else "抱歉久等")
            page.click("form.reply button[type=submit]")
            error = page.wait_for_selector("form.reply .error").inner_text()
            assert ("more than 48 hours ago" if language == "en" else "已超过 48 小时") in error
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            shot(page, f"wechat/window-closed-{language}-{label}")
            page.context.close()
        assert not Message.objects.filter(ticket=ticket, author_user=alice).exists()

        page = open_page("en", DESKTOP)
        page.click("[data-testid=send-template]")
        page.wait_for_selector("text=Template message sent.")
        shot(page, "wechat/window-template-sent-en-desktop")
        assert len(api.requests_to(TEMPLATE)) == 1
