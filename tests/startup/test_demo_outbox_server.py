"""`walletdesk up --demo` as a person runs it: the banner, and mail kept in the outbox.

The console mail backend used to print ~200 lines of raw MIME over the demo logins; now each
mail is a file under the data directory and agents read it at /agent/outbox/. The banner says
which desk each demo login sees (alice is not in the Security desk, so she cannot see its
tickets). Screenshots: test-artifacts/startup/{zh-phone,en-desktop}-outbox*.png.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk

pytestmark = [pytest.mark.browser]
LOGIN = re.compile(r"^\s+(\w+)\s+(\S+@\S+) / (\S+)\s+(.+)$")


def _banner_logins(log: str) -> dict[str, tuple[str, str]]:
    found = {}
    for line in log.splitlines():
        match = LOGIN.match(line)
        if match:
            found[match.group(2)] = (match.group(3), match.group(4))
    return found


def _sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def test_demo_banner_and_outbox(tmp_path: Path) -> None:
    server = Walletdesk(tmp_path / "data", up_args=("--demo",))
    # The helper silences mail for other tests; here the product's own default is the point.
    server.env.pop("EMAIL_BACKEND", None)
    with server:
        log = server.log()
        # --- the banner -------------------------------------------------------------------
        logins = _banner_logins(log)
        assert set(logins) >= {"alice@demo.walletdesk.test", "bob@demo.walletdesk.test", "carol@example.com"}
        alice_sees = logins["alice@demo.walletdesk.test"][1]
        assert "General" in alice_sees and "cannot see Security desk tickets" in alice_sees, alice_sees
        bob_sees = logins["bob@demo.walletdesk.test"][1]
        assert "Security desk" in bob_sees and "cannot see" not in bob_sees, bob_sees
        assert "My requests" in logins["carol@example.com"][1]
        assert f"Mail outbox:  {server.base_url}/agent/outbox/" in log

        # --- a guest's request: its acknowledgement is kept, not printed -------------------
        request = urllib.request.Request(
            f"{server.base_url}/api/v1/tickets",
            data=json.dumps(
                {"subject": "Outbox check", "body": "My transfer is pending.", "email": "guest@example.com"}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            reference = json.load(response)["reference"]
        outbox = server.data_dir / "outbox"

        def guests_mail() -> list[Path]:
            # The demo's own tickets are acknowledged too, possibly later; wait for this one.
            return [p for p in outbox.glob("*.eml") if reference.encode() in p.read_bytes()]

        deadline = time.monotonic() + 60
        while not guests_mail() and time.monotonic() < deadline:
            time.sleep(0.3)
        kept = guests_mail()
        assert kept, server.log()[-3000:]
        terminal = server.log()
        assert "MIME-Version" not in terminal and "Content-Transfer-Encoding" not in terminal
        assert "kept in the outbox" in terminal

        with chromium() as browser:
            # --- who may read it: agents; a customer is refused; a guest must sign in ------
            guest = browser.new_context().new_page()
            guest.goto(f"{server.base_url}/agent/outbox/{kept[0].name}/")
            assert "/accounts/login/" in guest.url and reference not in guest.content()
            customer = browser.new_context().new_page()
            _sign_in(customer, server.base_url, "carol@example.com", logins["carol@example.com"][0])
            refused = customer.goto(f"{server.base_url}/agent/outbox/")
            assert refused is not None and refused.status == 403
            assert reference not in customer.content()

            for email, locale, lang, size, viewport in (
                ("alice@demo.walletdesk.test", "zh-CN", "zh", "phone", PHONE),
                ("bob@demo.walletdesk.test", "en-US", "en", "desktop", DESKTOP),
            ):
                context = browser.new_context(viewport=viewport, locale=locale, is_mobile=size == "phone")
                page = context.new_page()
                _sign_in(page, server.base_url, email, logins[email][0])
                page.goto(f"{server.base_url}/agent/outbox/")
                # The demo's own tickets were acknowledged too; the guest's mail is among them.
                link = page.locator("[data-testid=outbox] li", has_text="guest@example.com").locator("a")
                link.wait_for()
                shot(page, f"startup/{lang}-{size}-outbox")
                link.click()
                body = page.locator("[data-testid=outbox-body]")
                body.wait_for()
                assert reference in body.inner_text()
                # The tracking link in the mail is a link the demo can follow.
                assert page.locator("[data-testid=outbox-body] a[href*='/track/']").count() >= 1
                shot(page, f"startup/{lang}-{size}-outbox-mail")
                context.close()
