"""The reports page in a real browser: the per-agent table and the tickets-per-day line.

In Chinese on a phone, Alice (General) sees a row per agent built from the tickets she may see
(Bob's Security-desk tickets stay out of his row) and a line with one point per day of the
period, days without tickets included; the table scrolls inside its card, the page does not.
In English on a desktop an admin sees the Security desk's tickets in Bob's row. Neither page
breaks the CSP. Screenshots: test-artifacts/reports/agents-<lang>-<device>*.png.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from tests.reports.test_agents import H, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def _data(alice: Any, bob: Any, erin: Any) -> None:
    end = timezone.localdate()
    noon = timezone.make_aware(datetime.combine(end, datetime.min.time())) + 12 * H
    for back in (0, 0, 1, 3, 4, 4, 4, 9, 15, 22, 29):
        ticket(
            replier=alice if back % 2 else erin,
            assignee=alice,
            reply=(1 + back % 3) * H,
            solve=(5 + back) * H if back % 3 else None,
            reply_due=2 * H,
            created=noon - back * 24 * H,
            rating="good" if back % 4 else ("bad" if back else ""),
        )
    ticket(replier=bob, assignee=bob, reply=H, solve=3 * H, created=noon, rating="good")
    for back in (2, 5):  # the Security desk's: invisible to Alice, in figures and on the line
        ticket(
            replier=bob, assignee=bob, reply=30 * H, category="account_stolen", created=noon - back * 24 * H
        )


def _open(
    browser: Any, user: Any, base: str, lang: str, viewport: Any, query: str = ""
) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang != "en" else "en-US")
    context.add_cookies([login_cookie(user, base), {"name": "django_language", "value": lang, "url": base}])
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/agent/reports/{query}")
    page.wait_for_selector("[data-testid=agents]")
    return context, page, problems


def _rows(page: Any) -> dict[str, list[str]]:
    rows = {}
    for row in page.locator("[data-testid=agent-row]").all():
        cells = row.locator("th, td").all_inner_texts()
        rows[cells[0].strip()] = [c.strip() for c in cells[1:]]
    return rows


def _polyline(page: Any) -> int:
    """Points of the line the reader sees: the narrow drawing on a phone, the wide one else."""
    return len(page.locator("svg.chart.line:visible polyline").get_attribute("points").split())


def test_agents_table_and_daily_line(live_server: Any, alice: Any, bob: Any, erin: Any, root: Any) -> None:
    _data(alice, bob, erin)
    base = live_server.url
    with chromium() as browser:
        context, page, problems = _open(browser, alice, base, "zh-hans", PHONE)
        assert page.locator("h2", has_text="按客服").count() == 1
        rows = _rows(page)
        assert set(rows) == {"Alice", "Bob", "Erin"}
        assert rows["Alice"][:2] == ["11", "6"]  # assigned, solved
        assert rows["Bob"][:2] == ["1", "1"] and rows["Bob"][3] == "1.0"  # no 30 h Security reply
        assert rows["Erin"][0] == "0" and rows["Erin"][2] != "—"  # first replies, nothing assigned
        assert page.locator("svg.chart.line:visible").get_attribute("data-size") == "narrow"
        assert _polyline(page) == 30 and page.locator("svg.chart.line:visible circle").count() == 30
        assert (
            page.locator("svg.chart.line:visible circle title")
            .all_text_contents()
            .count(f"{timezone.localdate().isoformat()}: 3")
            == 1
        )
        assert page.get_by_text("按自然时间计算", exact=False).count() == 1  # the legend
        # On a phone the table scrolls inside its card; the page itself does not.
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        assert page.locator(".table-scroll").evaluate("e => e.scrollWidth > e.clientWidth")
        shot(page, "reports/agents-zh-hans-phone")
        assert not [p for p in problems if "Content Security Policy" in p], problems
        context.close()

        # English dates and words break less readily than Chinese: the page must still fit.
        context, page, problems = _open(browser, alice, base, "en", PHONE)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        context.close()

        context, page, problems = _open(browser, root, base, "en", DESKTOP)
        assert page.locator("h2", has_text="By agent").count() == 1
        assert _rows(page)["Bob"][:2] == ["3", "1"]  # the admin sees the Security desk's tickets
        assert page.locator("svg.chart.line:visible").get_attribute("data-size") == "wide"
        assert _polyline(page) == 30
        assert page.locator("svg.chart.line:visible .axis-title").all_text_contents() == ["Day", "Tickets"]
        shot(page, "reports/agents-en-desktop")
        for name, query, points in (
            ("1-day", f"?start={timezone.localdate()}&end={timezone.localdate()}", 2),
            ("90-days", f"?start={timezone.localdate() - timedelta(days=89)}&end={timezone.localdate()}", 90),
            ("empty", "?start=2020-01-01&end=2020-01-30", 30),
        ):
            page.goto(f"{base}/agent/reports/{query}")
            assert _polyline(page) == points
            shot(page, f"reports/agents-en-desktop-{name}")
        assert page.get_by_text("No tickets in this period.").count() == 1
        assert not [p for p in problems if "Content Security Policy" in p], problems
        context.close()
