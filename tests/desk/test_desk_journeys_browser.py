"""The desk journeys of #20 in a real browser against `walletdesk up`: requests filed through
the real web form, agents signed in through the real login form.

In Chinese on a phone and in English on a desktop, Alice (General) searches by a tx hash and by
an email and finds the ticket (and never a Security-desk ticket holding the same hash); a
lockout ticket's macro picker preselects "Account unlocked", whose help-centre link is sent
without the guard calling it unofficial; a fee-scam request shows one fee chip.

Screenshots: test-artifacts/desk/journeys-<lang>-<device>-*.png.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.desk.test_live_browser import AGENTS, SETUP, Person
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]

TEXT = {
    "en": {
        "locked": ("Locked out", "I am locked out after too many password attempts."),
        "fee": ("Fee question", "Why was the network fee so high?"),
        "scam": (
            "Someone asked me to pay a fee",
            "A support agent said I must pay a 50 USDT unlock fee to verify my wallet, and pay the fee "
            "again to release funds.",
        ),
        "stolen": ("My account was stolen", "Someone took over my account and moved my funds."),
    },
    "zh-hans": {
        "locked": ("账户被锁定", "我输错密码太多次，账户被锁定了，请帮我解锁。"),
        "fee": ("手续费问题", "为什么这笔转账的网络手续费这么高？"),
        "scam": (
            "有人让我付费",
            "一个自称客服的人说我必须支付50 USDT解冻费来验证钱包，还要再付手续费才能提现。"
            "He said: pay a 50 USDT unlock fee to verify your wallet.",
        ),
        "stolen": ("账户被盗", "有人盗取了我的账户并转走了资产。"),
    },
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def accounts(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with walletdesk_up(
        tmp_path_factory.mktemp("deskjourneys"), env={"HELPER_PROCESSES": "0"}, before_start=accounts
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]


def file(site: Walletdesk, category: str, text: tuple[str, str], email: str, **facts: str) -> str:
    customer = Person(site.base_url)
    original = customer.post

    def post(path: str, data: dict[str, str], form: str | None = None) -> Any:
        return original(path, {**data, "email": email, "body": text[1], **facts}, form)

    customer.post = post  # type: ignore[method-assign]
    return customer.file_request(category, text[0])


def agent_page(browser: Any, site: Walletdesk, who: str, lang: str, viewport: Any) -> Any:
    sessionid = Person(site.base_url).sign_in(AGENTS[who][0])
    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang != "en" else "en-US")
    context.add_cookies(
        [
            {"name": "sessionid", "value": sessionid, "url": site.base_url},
            {"name": "django_language", "value": lang, "url": site.base_url},
        ]
    )
    return context.new_page()


def search(page: Any, site: Walletdesk, query: str) -> None:
    page.goto(site.base_url + "/agent/?view=all")
    box = (
        page.get_by_test_id("search")
        if page.get_by_test_id("search").count()
        else page.locator("input[name=q]")
    )
    box.fill(query)
    box.press("Enter")
    page.wait_for_load_state("networkidle")


def listed(page: Any, reference: str) -> bool:
    return page.locator(f"a:has-text('{reference}')").count() > 0


@pytest.mark.parametrize(("lang", "device"), [("zh-hans", "phone"), ("en", "desktop")])
def test_desk_journeys(site: Walletdesk, lang: str, device: str) -> None:
    viewport = PHONE if device == "phone" else DESKTOP
    text = TEXT[lang]
    tag = secrets.token_hex(4)
    tx = "0x" + secrets.token_hex(32)
    email = f"Mei.Lin.{tag}@Example.com"
    fee = file(site, "fees", text["fee"], email, tx_hash=tx)
    locked = file(site, "login_locked", text["locked"], f"locked.{tag}@example.com", account=f"u{tag}")
    scam = file(site, "scam_report", text["scam"], f"scam.{tag}@example.com")
    stolen = file(site, "account_stolen", text["stolen"], email, account=f"s{tag}", tx_hash=tx)
    name = f"desk/journeys-{lang}-{device}"

    with chromium() as browser:
        alice = agent_page(browser, site, "alice", lang, viewport)
        # By tx hash, in capitals as a block explorer may show it: the fee ticket, never the
        # Security desk's stolen-account ticket that holds the same hash.
        search(alice, site, tx.upper().replace("0X", "0x"))
        shot(alice, f"{name}-search-tx")
        assert listed(alice, fee), alice.content()[:3000]
        assert not listed(alice, stolen) and not listed(alice, locked)
        # By the customer's email, typed in another case.
        search(alice, site, email.lower())
        shot(alice, f"{name}-search-email")
        assert listed(alice, fee) and not listed(alice, stolen)

        sam = agent_page(browser, site, "sam", lang, viewport)
        search(sam, site, tx)
        assert listed(sam, stolen)

        # The lockout ticket: the macro that fits is preselected, not "Ask for transaction hash".
        alice.goto(f"{site.base_url}/agent/tickets/{locked}/")
        picker = alice.locator("#macro-select")
        picker.scroll_into_view_if_needed()
        shot(alice, f"{name}-macros")
        # Nothing wider than the screen (the picker's longest macro name once pushed the page).
        assert alice.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        chosen = picker.evaluate("s => s.options[s.selectedIndex].text")
        assert chosen.startswith("Account unlocked"), chosen
        # Insert it and send: its help-centre link is ours, so nothing asks for confirmation.
        alice.locator("form.macros button[value=fill]").click()
        alice.wait_for_function("() => document.querySelector('#id_body').value.includes('/help/a/')")
        alice.locator("form:has(#id_body) button.primary[type=submit]").click()
        alice.wait_for_load_state("networkidle")
        shot(alice, f"{name}-reply-sent")
        assert alice.locator(".thread .msg.agent").filter(has_text=f"{site.base_url}/help/a/").count() == 1
        assert alice.locator("[role=alert]").filter(has_text=site.base_url).count() == 0

        # The fee-scam request: one fee chip.
        alice.goto(f"{site.base_url}/agent/tickets/{scam}/")
        shot(alice, f"{name}-fee-chip")
        chips = alice.locator(".ticket-head .flag")
        codes = [chips.nth(i).get_attribute("data-code") for i in range(chips.count())]
        assert codes.count("fee_request") == 1, codes
        assert len(codes) == len(set(codes)), codes
