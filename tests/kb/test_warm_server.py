"""Through the real server: the KB index is built during warm-up, and search cuts off in a browser.

Screenshots: test-artifacts/kb/{zh-phone,en-desktop}-search-{match,no-match}.png.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import walletdesk_up

pytestmark = [pytest.mark.browser]


def test_each_web_process_builds_the_index_before_serving_and_search_cuts_off(tmp_path: Path) -> None:
    with walletdesk_up(tmp_path, workers=2, env={"LOG_LEVEL": "INFO"}) as server:
        # The web server's parent warms up once, before it forks its two web processes
        # (core.serve), so both serve with the index already built, sharing its pages.
        warmed = [line for line in server.log().splitlines() if "kb index warmed" in line]
        assert len(warmed) == 1, server.log()[-3000:]
        assert "'en': 21" in warmed[0] and "'zh-hans': 21" in warmed[0]

        # So the first search finds it with the index already built (no timing here: speed
        # belongs in bench/kb_latency.py; the log lines above prove the build came first).
        url = f"{server.base_url}/help/search/?" + urllib.parse.urlencode({"q": "账户被锁了怎么办"})
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
        assert "/help/a/account-locked/" in body

        with chromium() as browser:
            for name, viewport, locale, query, expect in (
                ("zh-phone", PHONE, "zh-CN", "账户被锁了怎么办", "账户被锁定"),
                ("en-desktop", DESKTOP, "en-US", "my account is locked", "My account is locked"),
            ):
                context = browser.new_context(viewport=viewport, locale=locale, is_mobile=viewport == PHONE)
                page = context.new_page()
                page.goto(f"{server.base_url}/help/search/?" + urllib.parse.urlencode({"q": query}))
                results = page.locator("#kb-results li a")
                assert expect in results.first.inner_text()
                assert 1 <= results.count() <= 8
                shot(page, f"kb/{name}-search-match")

                unrelated = "附近有什么好吃的餐厅" if locale == "zh-CN" else "best pizza near me"
                page.goto(f"{server.base_url}/help/search/?" + urllib.parse.urlencode({"q": unrelated}))
                assert page.locator("#kb-results li a").count() == 0
                no_match = page.locator("[data-testid=kb-no-match]")
                assert (
                    "没有与您的问题相符的文章" if locale == "zh-CN" else "No article matched"
                ) in no_match.inner_text()
                shot(page, f"kb/{name}-search-no-match")

                # The request form's suggestions box says so too, as the customer types.
                page.goto(f"{server.base_url}/new/")
                page.locator("#id_subject").press_sequentially(unrelated, delay=20)
                page.locator("[data-testid=kb-no-match]").wait_for(timeout=10_000)
                shot(page, f"kb/{name}-suggest-no-match")
                context.close()
