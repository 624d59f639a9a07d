"""The chain pages in real Chromium against the live server and the real EVM: a customer links
an address by signing the page's message (eth-account plays the wallet), the monitor sees a
drain and a poisoning on another linked address, the customer reads the flags, and a
Security-desk agent opens the alert ticket. Screenshots (zh phone, en desktop) go to
test-artifacts/chain/ and, when the folder exists, /work/shots/chainwatch/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from tests.chain.evm import UNLIMITED, Node
from tests.chain.test_monitor import FRIEND, LOOKALIKE, link
from walletdesk.chain import monitor
from walletdesk.chain.models import LinkedAddress
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]
SHOTS = Path("/work/shots/chainwatch")


def keep(page: Any, name: str) -> None:
    path = shot(page, f"chain/{name}")
    if SHOTS.parent.exists():
        SHOTS.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS / f"{name}.png")


def test_link_watch_and_alert_in_the_browser(
    live_server: Any, evm: Node, carol: Any, bob: Any, settings: Any
) -> None:
    from tests.chain.conftest import make_chain

    settings.CHAIN_MONITOR_START_BACK = 10**6
    chain = make_chain(evm)
    victim, drainer = evm.accounts[1], evm.accounts[2]
    link(carol, victim)
    token = evm.deploy("TestToken", "Tether", "USDT", 6, 10**12)
    evm.send(token.functions.transfer(victim, 10**9), evm.accounts[0])
    for _ in range(3):
        evm.send(token.functions.transfer(evm.w3.to_checksum_address(FRIEND), 10**6), victim)
    evm.send(token.functions.approve(drainer, UNLIMITED), victim)
    evm.send(token.functions.transferFrom(victim, drainer, 10**9 - 3 * 10**6), drainer)
    evm.send(token.functions.transferFrom(evm.w3.to_checksum_address(LOOKALIKE), victim, 0), evm.accounts[3])
    monitor.follow(chain, "browser-test", budget_steps=100)
    wallet = Account.create()
    base = live_server.url
    with chromium() as browser:
        for name, viewport, lang in (("zh-phone", PHONE, "zh-hans"), ("en-desktop", DESKTOP, "en")):
            context = browser.new_context(viewport=viewport, locale="zh-CN" if lang != "en" else "en-US")
            context.add_cookies(
                [login_cookie(carol, base), {"name": "django_language", "value": lang, "url": base}]
            )
            page = context.new_page()
            page.goto(f"{base}/account/addresses/")
            if not LinkedAddress.objects.filter(address=wallet.address.lower()).exists():
                page.fill("#id_address", wallet.address)
                page.click("form[action$='/link/'] button[type=submit]")
                page.wait_for_selector("[data-testid=link-message]")
                keep(page, f"{name}-sign")
                message = page.input_value("[data-testid=link-message]")
                signature = wallet.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
                page.fill("#id_signature", signature)
                page.click("form.form button[type=submit]")
                page.wait_for_selector("[data-testid=linked-address]")
            assert page.locator("[data-testid=linked-address]").count() == 2
            keep(page, f"{name}-addresses")
            page.goto(f"{base}/account/addresses/activity/")
            assert page.locator("[data-testid=activity-flag]").count() == 3
            keep(page, f"{name}-activity")
            context.close()
        ticket = Ticket.objects.get(contact__user=carol)
        for name, viewport, lang in (("zh-phone", PHONE, "zh-hans"), ("en-desktop", DESKTOP, "en")):
            context = browser.new_context(viewport=viewport)
            context.add_cookies(
                [login_cookie(bob, base), {"name": "django_language", "value": lang, "url": base}]
            )
            page = context.new_page()
            page.goto(f"{base}/agent/tickets/{ticket.reference}/")
            assert "approve(" in page.content()
            keep(page, f"{name}-desk-alert-ticket")
            context.close()
