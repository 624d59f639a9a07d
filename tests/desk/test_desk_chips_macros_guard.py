"""The desk items of #20: macros by category, the product's own links, one fee-scam chip."""

from __future__ import annotations

import re
from typing import Any

import pytest

from walletdesk.desk.models import Macro
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Category, Message, Ticket

FEE_SCAM = (
    "Support told me to pay a 50 USDT unlock fee to verify my wallet. You must pay the fee to release "
    "funds, they said."
)


def ticket_of(category: str, body: str = "I am locked out after too many tries", **kw: Any) -> Ticket:
    return actions.create_ticket(
        NewTicket(subject="Help", body=body, category=category, email="kim@example.com", **kw)
    )


def picker(page: str) -> tuple[str | None, list[str]]:
    """(the preselected option's text, every option's text in order)."""
    select = re.search(r'<select id="macro-select".*?</select>', page, re.S)
    assert select is not None
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select.group())
    chosen = [text for attrs, text in options if "selected" in attrs]
    return (chosen[0] if chosen else None), [text for _, text in options]


def test_a_lockout_ticket_offers_the_unlock_macro_not_the_tx_hash_one(alice: Any, as_user: Any) -> None:
    ticket = ticket_of("login_locked")
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    chosen, names = picker(page)
    assert chosen is not None and chosen.startswith("Account unlocked")
    assert names.index(chosen) < names.index(
        next(n for n in names if n.startswith("Ask for transaction hash"))
    )
    assert "For this category" in page and "Other categories" in page


def test_a_transaction_ticket_preselects_the_tx_hash_macro(alice: Any, as_user: Any) -> None:
    ticket = ticket_of("other", body="My transfer never arrived")
    chosen, _ = picker(as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode())
    assert chosen is not None and chosen.startswith("Ask for transaction hash")


def test_no_macro_fits_then_nothing_is_preselected_and_send_changes_nothing(alice: Any, as_user: Any) -> None:
    Macro.objects.exclude(categories__slug="forgot_password").update(active=False)
    ticket = ticket_of("fees", body="Why was the network fee so high?")
    client = as_user(alice)
    page = client.get(f"/agent/tickets/{ticket.reference}/").content.decode()
    chosen, names = picker(page)
    assert chosen == "Choose a macro…" and names[1].startswith("Account unlocked")
    before = Message.objects.filter(ticket=ticket).count()
    answer = client.post(
        f"/agent/tickets/{ticket.reference}/macro/", {"macro": "", "mode": "send", "version": ticket.version}
    )
    assert answer.status_code == 302
    assert Message.objects.filter(ticket=ticket).count() == before


def test_the_picker_is_in_chinese_on_a_chinese_desk(alice: Any, as_user: Any) -> None:
    Macro.objects.update(active=False)
    macro = Macro.objects.create(name="Fees", body_en="x", body_zh="x")
    macro.categories.add(Category.objects.get(slug="other"))
    ticket = ticket_of("fees", body="fee question")
    client = as_user(alice)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/agent/tickets/{ticket.reference}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "选择快捷回复…" in page and "其他类别" in page


@pytest.mark.parametrize("site", ["https://help.walletdesk.example", "http://127.0.0.1:8311"])
def test_a_reply_with_our_own_help_centre_link_is_not_flagged(
    site: str, settings: Any, alice: Any, as_user: Any
) -> None:
    settings.SITE_URL = site
    ticket = ticket_of("forgot_password", body="forgot my password")
    client = as_user(alice)
    body = f"Reset it here: {site}/kb/forgot-password/"
    answer = client.post(
        f"/agent/tickets/{ticket.reference}/reply/", {"body": body, "version": ticket.version}
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Message.objects.filter(ticket=ticket, body=body).exists()


def test_allowed_hosts_names_are_ours_and_lookalikes_are_still_flagged(
    settings: Any, alice: Any, as_user: Any
) -> None:
    settings.SITE_URL = "https://help.walletdesk.example"
    settings.ALLOWED_HOSTS = ["localhost", ".support.walletdesk.example", "*"]
    ticket = ticket_of("forgot_password", body="forgot my password")
    client = as_user(alice)
    ours = "See https://cn.support.walletdesk.example/kb/forgot-password/"
    assert client.post(f"/agent/tickets/{ticket.reference}/reply/", {"body": ours}).status_code == 302
    for theirs in (
        "See https://help.walletdesk.example.evil.io/kb/",
        "See http://localhost.evil.io/kb/",
        "See https://walletdesk-help.example.net/kb/",
    ):
        answer = client.post(f"/agent/tickets/{ticket.reference}/reply/", {"body": theirs})
        assert answer.status_code == 400, theirs
        assert "Check before sending" in answer.content.decode()


def test_the_fee_scam_chip_shows_once(alice: Any, as_user: Any) -> None:
    ticket = actions.create_ticket(
        NewTicket(
            subject="Pay the unlock fee to release funds?",
            body=FEE_SCAM,
            category="fees",
            email="k@example.com",
        )
    )
    actions.add_customer_message(
        ticket, "They again asked me to pay the fee to unlock my wallet.", channel="web"
    )
    ticket.refresh_from_db()
    assert [f["code"] for f in ticket.flags].count("fee_request") == 1
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert page.count('data-code="fee_request"') == 1
    # A ticket stored before the fix, with the flag twice, still shows one chip.
    Ticket.objects.filter(pk=ticket.pk).update(flags=ticket.flags * 2)
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert page.count('data-code="fee_request"') == 1
    inbox = as_user(alice).get("/agent/", {"view": "all"}).content.decode()
    assert inbox.count('<span class="flag" title="Asks for a fee to unlock') == 1
