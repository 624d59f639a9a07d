"""Suggestions while typing, in real Chromium at phone size, plus screenshots of the help centre.

Screenshots land in test-artifacts/kb/ (zh and en; phone 390x844 and desktop 1280x800).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from walletdesk.kb.models import SuggestionEvent

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# A transactional test's flush empties migration-seeded rows; the `starter` fixture reloads the
# articles and flows, so this test does not depend on what ran before it.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def test_chinese_question_on_a_phone_gets_a_suggestion_that_opens(live_server: Any, starter: None) -> None:
    base = live_server.url
    with chromium() as browser:
        phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = phone.new_page()
        page.goto(f"{base}/new/")
        page.locator("#id_subject").press_sequentially("账户被锁定了，登不进去", delay=20)
        suggestion = page.locator("[data-testid=kb-suggestions] a[href*='/help/a/account-locked/']")
        suggestion.wait_for(timeout=10_000)
        assert "账户被锁定" in suggestion.inner_text()
        shot(page, "kb/zh-phone-suggestions")

        with phone.expect_page() as opened:
            suggestion.click()
        article = opened.value
        article.wait_for_load_state()
        assert "/help/a/account-locked/" in article.url and "from=suggest" in article.url
        assert "密码输错太多次" in article.locator("h1").inner_text()
        shot(article, "kb/zh-phone-article")
        assert SuggestionEvent.objects.filter(kind="opened", article__slug="account-locked").count() == 1

        # Voting from the page swaps in a thank-you without leaving it.
        article.click("button[name=helpful][value=yes]")
        article.wait_for_selector(".kb-thanks")
        phone.close()


def test_help_centre_screenshots(live_server: Any, starter: None) -> None:
    base = live_server.url
    with chromium() as browser:
        for locale, lang in (("zh-CN", "zh"), ("en-US", "en")):
            for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                context = browser.new_context(viewport=viewport, locale=locale, is_mobile=size == "phone")
                page = context.new_page()
                page.goto(f"{base}/help/")
                assert page.locator(".kb-category").count() >= 5
                shot(page, f"kb/{lang}-{size}-help-home")
                page.goto(f"{base}/help/a/unauthorised-transaction/")
                shot(page, f"kb/{lang}-{size}-article")
                page.goto(f"{base}/help/t/cannot-log-in/")
                page.click(".kb-options a >> nth=0")  # htmx swaps the next step in
                page.wait_for_selector("[data-step=locked]")
                assert "path=start%2Clocked" in page.url or "path=start,locked" in page.url
                shot(page, f"kb/{lang}-{size}-troubleshooter")
                if lang == "en" and size == "desktop":
                    page.goto(f"{base}/new/")
                    page.locator("#id_subject").press_sequentially("my transfer is pending", delay=10)
                    page.wait_for_selector("[data-testid=kb-suggestions] a[href*='transaction-pending']")
                    shot(page, "kb/en-desktop-suggestions")
                context.close()
