"""The "is this official?" journey in real Chromium against `walletdesk up` (web processes and the
task worker): in Chinese on a phone and in English on a desktop, as a guest.

Before #20 this journey failed at its first step: with the default type ("website or link") the
official @imToken was "not on our official list", @imToken_support got the same mild answer,
the reasons were English on the Chinese page, the verdict's emoji were empty boxes without an
emoji font, and "Report" opened an empty form. Here: the official account is official, the
fake is called fake in the page's language with a shipped icon, "Report" files a scam report
that holds the checked value (a ticket in "scam_report" for the General team), and a recovery
phrase pasted into the check leaves neither the page nor its address holding it.

Screenshots: test-artifacts/verify/*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARTIFACTS, DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
# What `walletdesk up --demo` registers (walletdesk/demo.py).
SETUP = """
from walletdesk.demo import OFFICIAL
from walletdesk.registry.models import OfficialContact
for position, (kind, value, en, zh, url) in enumerate(OFFICIAL):
    OfficialContact.objects.create(kind=kind, value=value, label_en=en, label_zh=zh, url=url, position=position)
"""
REPORTS = """
import json
from walletdesk.tickets.models import Ticket
print(json.dumps([[t.category.slug, t.subject, t.messages.first().body, t.team.slug, t.wallet_address]
                  for t in Ticket.objects.order_by("pk")], ensure_ascii=False))
"""
EMOJI = "✅⛔⚠️❌"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def setup(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with walletdesk_up(
        tmp_path_factory.mktemp("verify"), env={"HELPER_PROCESSES": "0"}, before_start=setup
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]
    assert "legal winner" not in log  # the pasted phrase reached no log line


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as found:
        yield found


def open_page(browser: Any, site: Walletdesk, viewport: Any, lang: str) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN" if lang.startswith("zh") else "en-US")
    context.add_cookies([{"name": "django_language", "value": lang, "url": site.base_url}])
    page = context.new_page()
    page.goto(site.base_url + "/verify/")
    return page


def check(page: Any, value: str) -> Any:
    """Type the value as a person would, leave the type as it is, press Check."""
    page.fill("#id_value", value)
    page.click("form.form button[type=submit]")
    return page.wait_for_selector("[data-testid=verdict]")


def in_view(page: Any, viewport: Any) -> bool:
    """The verdict's heading is on the screen without scrolling (the form fills a phone's)."""
    box = page.locator("[data-testid=verdict] h2").bounding_box()
    return bool(box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"])


def icon_is_drawn(page: Any) -> bool:
    box = page.locator("[data-testid=verdict-icon]").bounding_box()
    return bool(box and box["width"] >= 20 and box["height"] >= 20)


def reports(site: Walletdesk) -> list[list[str]]:
    return list(json.loads(site.manage("shell", "-c", REPORTS).strip().splitlines()[-1]))


def test_chinese_on_a_phone_official_fake_and_report(browser: Any, site: Walletdesk) -> None:
    page = open_page(browser, site, PHONE, "zh-hans")
    # The type is no longer something to get right first.
    assert page.locator("#id_kind option:checked").inner_text() == "自动识别"

    verdict = check(page, "@imToken")
    shot(page, "verify/official-phone-zh-hans")
    assert verdict.get_attribute("data-status") == "official", verdict.inner_text()
    assert "@imtoken 是我们在Telegram和微博上的官方账号" in verdict.inner_text()
    assert icon_is_drawn(page) and not any(e in verdict.inner_text() for e in EMOJI)

    verdict = check(page, "@imToken_support")
    assert in_view(page, PHONE)
    page.screenshot(path=str(ARTIFACTS / "verify" / "fake-phone-zh-hans-screen.png"))  # what the phone shows
    shot(page, "verify/fake-phone-zh-hans")
    text = verdict.inner_text()
    assert verdict.get_attribute("data-status") == "impersonation", text
    assert "假冒：这不是我们" in text and "这个是假的" in text
    assert "official account" not in text and "is not" not in text  # no English reason on the Chinese page
    assert icon_is_drawn(page) and not any(e in text for e in EMOJI)

    page.click("[data-testid=report]")
    page.wait_for_selector("#id_subject")
    assert page.input_value("#id_category") == "scam_report"
    assert page.input_value("#id_subject") == "假客服：@imToken_support"
    assert "“@imToken_support”" in page.input_value("#id_body") and "这个是假的" in page.input_value(
        "#id_body"
    )
    page.fill("#id_email", "wang@example.com")
    page.fill("#id_body", page.input_value("#id_body") + "在 Telegram 上私信我，让我付“解冻费”。")
    shot(page, "verify/report-phone-zh-hans")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/submitted/**")
    filed = [r for r in reports(site) if "@imToken_support" in r[1]]
    assert filed and filed[0][0] == "scam_report" and "@imToken_support" in filed[0][2]
    page.context.close()


def test_english_on_a_desktop_official_fake_address_and_a_pasted_phrase(
    browser: Any, site: Walletdesk
) -> None:
    page = open_page(browser, site, DESKTOP, "en")
    verdict = check(page, "@imToken")
    assert verdict.get_attribute("data-status") == "official", verdict.inner_text()
    assert "@imtoken is our official account on Telegram and Weibo" in verdict.inner_text()
    shot(page, "verify/official-desktop-en")

    verdict = check(page, "@imT0ken_help")
    assert verdict.get_attribute("data-status") == "impersonation"
    assert "Fake: this is not us" in verdict.inner_text() and icon_is_drawn(page)
    shot(page, "verify/fake-desktop-en")

    address = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"
    verdict = check(page, address)
    assert "A wallet address, not a contact" in verdict.inner_text() and "TRON" in verdict.inner_text()
    shot(page, "verify/address-desktop-en")
    page.click("[data-testid=report]")
    page.wait_for_selector("#id_subject")
    assert page.input_value("#id_wallet_address") == address
    assert page.input_value("#id_subject") == f"Suspicious contact: {address}"

    page.goto(site.base_url + "/verify/")
    verdict = check(page, PHRASE)
    assert "Stop: never share this" in verdict.inner_text()
    assert "legal" not in page.url and "legal" not in page.content()
    assert page.locator("[data-testid=report]").count() == 0
    shot(page, "verify/phrase-desktop-en")
    page.context.close()
