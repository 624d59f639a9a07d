"""A ticket's scam flags and a held reply's reasons in real Chromium: Chinese on a phone, English
on a desktop (#20). The agent types a reply asking for a fee with a non-official link, sends it,
and the guard holds it with its reasons in the page's language; sending again confirms it.

Screenshots: test-artifacts/desk/flags-<lang>-<device>-{ticket,held}.png.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from walletdesk.registry.models import OfficialContact
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

SCAM = "客服让我先支付解冻费才能提现，还让我打开 https://imt0ken.im/verify 验证钱包，说24小时内不处理就永久冻结。"
REPLY = {
    "zh-hans": "您好，请先支付解锁费用到 https://wallet-help.xyz/pay 以释放资金。",
    "en": "Hello, please pay the unlock fee at https://wallet-help.xyz/pay to release funds.",
}
EXPECT = {
    "zh-hans": ("要求支付解冻、验证或提现费用；真正的客服是免费的。", "这条回复要求客户支付费用。"),
    "en": ("Asks for a fee to unlock, verify or release funds; real support is free.",
           "The reply asks the customer to pay a fee."),
}  # fmt: skip


@pytest.mark.parametrize(("lang", "device"), [("zh-hans", "phone"), ("en", "desktop")])
def test_flags_and_a_held_reply_in_the_page_language(
    live_server: Any, alice: Any, lang: str, device: str
) -> None:
    for value in ("token.im", "imtoken.com"):
        OfficialContact.objects.get_or_create(
            kind="domain", value=value, defaults={"label_en": value, "label_zh": value}
        )
    ticket = actions.create_ticket(
        NewTicket(subject="解冻费是真的吗？", body=SCAM, category="fees", email="kim@example.com")
    )
    base = live_server.url
    with chromium() as browser:
        context = browser.new_context(
            viewport=PHONE if device == "phone" else DESKTOP,
            locale="zh-CN" if lang != "en" else "en-US",
            is_mobile=device == "phone",
        )
        context.add_cookies(
            [login_cookie(alice, base), {"name": "django_language", "value": lang, "url": base}]
        )
        page = context.new_page()
        page.goto(f"{base}/agent/tickets/{ticket.reference}/")
        flags = page.locator("[data-testid=flag]")
        assert flags.count() >= 3
        texts = flags.all_inner_texts()
        fee, held_fee = EXPECT[lang]
        assert any(fee in t for t in texts), texts
        shot(page, f"desk/flags-{lang}-{device}-ticket")

        page.locator("form.reply textarea[name=body]").fill(REPLY[lang])
        page.locator("form.reply button.primary[type=submit]").click()
        page.wait_for_selector("[data-testid=risk]")
        reasons = page.locator("[data-testid=risk]").all_inner_texts()
        assert held_fee in reasons, reasons
        assert any("wallet-help.xyz" in r for r in reasons), reasons
        if lang != "en":
            assert not any("official" in r or "reply asks" in r for r in reasons), reasons
        shot(page, f"desk/flags-{lang}-{device}-held")
        assert not Message.objects.filter(ticket=ticket, body=REPLY[lang]).exists()
        context.close()
