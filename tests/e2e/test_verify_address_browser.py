"""Is this address safe? (#21) in real Chromium against `walletdesk up`, as a guest: in Chinese
on a phone and in English on a desktop, the four verdicts (official, a lookalike of it, an
address on an imported scam list, a random one), a checksum typo, and a private key pasted into
the check. The lists are loaded with the real command, as an operator would.

Screenshots: test-artifacts/verify-address/*.png (and /work/shots/chainverify/ when it exists).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]

OFFICIAL = "0x52908400098527886E0F7030069857D2E4169EE7"
LOOKALIKE = "0x52908" + "C0FFEE" * 5 + "A" + "9EE7"
LISTED = "0x000000000000000000000000000000000000dEaD"
RANDOM = "0x7a16fF8270133F063aAb6C9977183D9e72835428"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SETUP = f"""
from walletdesk.registry.models import OfficialAddress
OfficialAddress.objects.create(address="{OFFICIAL.lower()}", purpose="deposit", label_en="Fee deposit",
                               label_zh="手续费充值地址")
OfficialAddress.objects.create(address="0xdac17f958d2ee523a2206206994597c13d831ec7", chain_id=1,
                               label_en="USDT token contract", label_zh="USDT 代币合约")
"""
SHOTS = Path("/work/shots/chainverify")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def setup(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)
        scam = up.data_dir / "scamsniffer.csv"
        scam.write_text(f"address,tag\n{LISTED},drainer\n")
        up.manage("import_address_list", str(scam), "--source", "ScamSniffer")

    with walletdesk_up(
        tmp_path_factory.mktemp("verify-address"), env={"HELPER_PROCESSES": "0"}, before_start=setup
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]
    assert KEY[2:30] not in log  # the pasted key reached no log line


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
    page.fill("#id_value", value)
    page.click("form.form button[type=submit]")
    return page.wait_for_selector("[data-testid=verdict]")


def save(page: Any, name: str) -> None:
    path = shot(page, f"verify-address/{name}")
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / path.name)


def fits(page: Any, viewport: Any) -> bool:
    """Nothing on the page is wider than the screen (a 42-character address wraps)."""
    return bool(page.evaluate("document.documentElement.scrollWidth") <= viewport["width"])


def icon_is_drawn(page: Any) -> bool:
    box = page.locator("[data-testid=verdict-icon]").bounding_box()
    return bool(box and box["width"] >= 20 and box["height"] >= 20)


def test_chinese_on_a_phone_the_four_verdicts(browser: Any, site: Walletdesk) -> None:
    page = open_page(browser, site, PHONE, "zh-hans")
    cases = [
        (OFFICIAL, "official", ["官方", "是我们的官方地址"]),
        (LOOKALIKE, "impersonation", ["相似地址：不是我们的", f"仿照了我们官方地址 {OFFICIAL}", "地址投毒"]),
        (LISTED, "scam", ["已知诈骗地址", "“ScamSniffer”"]),
        (RANDOM, "unknown", ["这是钱包地址"]),
    ]
    for value, status, expected in cases:
        verdict = check(page, value)
        text = verdict.inner_text()
        assert verdict.get_attribute("data-status") == status, text
        for words in expected:
            assert words in text, (words, text)
        assert " is " not in text and " not " not in text  # no English sentence on the Chinese page
        assert icon_is_drawn(page) and fits(page, PHONE)
        if status == "impersonation":  # the two addresses one under the other, the copied ends marked
            compare = page.locator("[data-testid=address-compare]")
            assert compare.locator(".same").count() == 4 and compare.locator(".differs").count() == 2
            assert "我们的地址" in compare.inner_text()
        save(page, f"{status}-phone-zh-hans")

    page.goto(site.base_url + "/contact/")
    contracts = page.inner_text("[data-testid=contracts]")
    assert "0xdAC17F958D2ee523a2206206994597C13D831ec7" in contracts and "USDT 代币合约" in contracts
    assert OFFICIAL not in page.content() and fits(page, PHONE)  # the deposit address is not listed
    save(page, "contact-phone-zh-hans")

    page.goto(site.base_url + "/verify/")
    verdict = check(page, OFFICIAL[:-3] + "eE7")  # one capital changed: the checksum no longer fits
    assert "校验和" in verdict.inner_text() and verdict.get_attribute("data-code") == "invalid"
    save(page, "checksum-phone-zh-hans")
    page.context.close()


def test_english_on_a_desktop_the_four_verdicts_a_report_and_a_pasted_key(
    browser: Any, site: Walletdesk
) -> None:
    page = open_page(browser, site, DESKTOP, "en")
    cases = [
        (OFFICIAL.lower(), "official", ["Official", f"{OFFICIAL} is an official address of ours"]),
        (LOOKALIKE, "impersonation", ["Lookalike address: not ours", f"our official address {OFFICIAL}"]),
        (LISTED.lower(), "scam", ["Known scam address", "on the imported scam address list “ScamSniffer”"]),
        (RANDOM, "unknown", ["A wallet address, not a contact"]),
    ]
    for value, status, expected in cases:
        verdict = check(page, value)
        text = verdict.inner_text()
        assert verdict.get_attribute("data-status") == status, text
        for words in expected:
            assert words in text, (words, text)
        assert icon_is_drawn(page)
        save(page, f"{status}-desktop-en")

    check(page, LISTED)
    page.click("[data-testid=report]")
    page.wait_for_selector("#id_subject")
    assert page.input_value("#id_category") == "scam_report"
    assert page.input_value("#id_wallet_address") == LISTED
    assert page.input_value("#id_subject") == f"Scam address: {LISTED}"

    page.goto(site.base_url + "/contact/")
    assert "USDT token contract" in page.inner_text("[data-testid=contracts]")
    save(page, "contact-desktop-en")

    page.goto(site.base_url + "/verify/")
    page.select_option("#id_kind", "address")
    verdict = check(page, KEY)
    assert "Stop: never share this" in verdict.inner_text()
    assert KEY[2:30] not in page.url and KEY[2:30] not in page.content()
    save(page, "key-desktop-en")
    page.context.close()
