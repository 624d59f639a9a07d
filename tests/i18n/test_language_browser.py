"""Language and clarity through the real product (`walletdesk up`, web process and task worker).

- A visitor from Taiwan (a phone whose browser sends Accept-Language zh-TW, no cookie) gets the
  Traditional Chinese interface: the help centre, the request form (its select says what to do,
  not "---------"), the submitted page (the promise names its zone as UTC+08:00, not "CST") and
  the tracking page (the facts they gave, their status worded for them).
- An agent reading a ticket in Simplified Chinese sees the team, the flag, every history line
  and the status in Chinese: no `customer_followed_up`, no English reason.

Screenshots: test-artifacts/i18n/*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.desk.test_live_browser import AGENTS, SETUP, Person
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]

# Characters that exist only in Simplified Chinese and are common on our pages: one of them on a
# zh-hant page means a string (or stored text) reached the visitor unconverted.
SIMPLIFIED_ONLY = set("们这请账户为务题问关们码设应过还录发来户项选择类别时间钥误须")


def _simplified_left(text: str) -> list[str]:
    return sorted({c for c in text if c in SIMPLIFIED_ONLY})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def accounts(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with walletdesk_up(
        tmp_path_factory.mktemp("i18n"), env={"HELPER_PROCESSES": "0"}, before_start=accounts
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]


def test_a_visitor_from_taiwan_reads_traditional_chinese_on_a_phone(site: Walletdesk) -> None:
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-TW", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(site.base_url + "/")
        assert page.get_attribute("html", "lang") == "zh-Hant"
        body = page.inner_text("body")
        assert "無法登入 / 帳戶被鎖定" in body  # the category, stored in Simplified, shown converted
        assert "我們從不索要" in body or "我們絕不" in body or "助記詞" in body, body[:800]
        assert _simplified_left(body) == [], body[:1500]
        assert "繁體中文" not in page.inner_text("nav")  # the switcher offers the other two
        shot(page, "i18n/zh-hant-phone-home")

        page.goto(site.base_url + "/new/")
        options = page.locator("#id_category option").all_inner_texts()
        assert options[0] == "請選擇問題類型", options
        assert "---------" not in page.content()
        assert _simplified_left(page.inner_text("main")) == [], page.inner_text("main")[:1500]
        shot(page, "i18n/zh-hant-phone-new")

        page.select_option("#id_category", "login_locked")
        page.wait_for_selector("[name=account]")
        page.fill("[name=account]", "wang@example.com")
        page.fill("[name=device]", "iPhone 15")
        page.fill("[name=app_version]", "2.14.1")
        page.fill("[name=email]", "wang@example.com")
        page.fill("[name=subject]", "帳號被鎖定")
        page.fill("[name=body]", "輸錯密碼三次以後就登入不了。")
        shot(page, "i18n/zh-hant-phone-new-filled")
        page.click("button[type=submit].primary")
        page.wait_for_selector("[data-testid=promise]")
        promise = page.inner_text("[data-testid=promise]")
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+08:00\)", promise), promise
        assert "CST" not in page.inner_text("main")
        assert promise.endswith("。"), promise  # a Chinese sentence, Chinese full stop
        shot(page, "i18n/zh-hant-phone-submitted")

        page.click("main a.button.primary")
        page.wait_for_selector("[data-testid=facts]")
        facts = page.inner_text("[data-testid=facts]")
        assert "iPhone 15" in facts and "2.14.1" in facts and "wang@example.com" in facts, facts
        assert page.inner_text("[data-testid=status]") == "已收到"
        assert _simplified_left(page.inner_text("main")) == [], page.inner_text("main")[:1500]
        shot(page, "i18n/zh-hant-phone-tracking")
        context.close()


DESK_EVENTS = """
from walletdesk.accounts.models import User
from walletdesk.tickets import actions
from walletdesk.tickets.models import Team, Ticket

alice = User.objects.get(email={alice!r})
ticket = Ticket.objects.get(reference={reference!r})
actions.change_status(ticket, "pending", actor=alice)
actions.set_team(Ticket.objects.get(pk=ticket.pk), Team.objects.get(slug="security"), actor=alice)
actions.set_team(Ticket.objects.get(pk=ticket.pk), Team.objects.get(slug="general"), actor=alice)
actions.follow_up_by_customer(Ticket.objects.get(pk=ticket.pk))
actions.change_status(Ticket.objects.get(pk=ticket.pk), "pending", actor=alice)
"""


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_desk_ticket_page_in_chinese_has_no_english_codes(
    site: Walletdesk, viewport: Any, name: str
) -> None:
    customer = Person(site.base_url)
    reference = customer.file_request(
        "login_locked",
        "账户被锁",
        body="有个自称客服的人让我先付 200 USDT 解冻费才能解锁，这是真的吗？",
        account="wang@example.com",
    )
    site.manage("shell", "-c", DESK_EVENTS.format(alice=AGENTS["alice"][0], reference=reference))
    agent = Person(site.base_url)
    sessionid = agent.sign_in(AGENTS["alice"][0])
    with chromium() as browser:
        context = browser.new_context(viewport=viewport, locale="en-US")
        context.add_cookies(
            [
                {"name": "sessionid", "value": sessionid, "url": site.base_url},
                {"name": "django_language", "value": "zh-hans", "url": site.base_url},
            ]
        )
        page = context.new_page()
        page.goto(f"{site.base_url}/agent/tickets/{reference}/")
        text = page.inner_text("body")
        assert page.locator(".ticket-head .badge").first.inner_text() == "等待客户回复"
        flags = page.locator("[data-testid=flag]").all_inner_texts()
        assert flags == ["⚠ 要求支付解冻、验证或提现费用；真正的客服是免费的。"], flags
        history = page.locator("ol.events li").all_inner_texts()
        joined = "\n".join(history)
        assert "客户提交了请求。" in joined, joined
        assert "客户催问进度" in joined, joined
        assert "将状态设为「等待客户回复」" in joined, joined
        assert "将请求转给 安全团队" in joined and "将请求转给 综合客服" in joined, joined
        assert not re.search(r"[a-z]+_[a-z_]+", joined), joined  # no event codes
        team = page.locator("select[name=team] option:checked").inner_text()
        assert team == "综合客服", team
        assert "---------" not in page.content()
        for english in ("customer_followed_up", "status_changed", "Pending", "General support", "fee"):
            assert english not in text, english
        shot(page, f"i18n/desk-ticket-zh-hans-{name}")
        context.close()
