"""Scam flags and the outbound guard's reasons in the reader's language (#20).

The shield explains a signal as reason codes with parameters; the ticket stores them beside the
English reason, and the desk words them with the catalogues. Old rows (English only) still read.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from walletdesk import shield
from walletdesk.registry.models import OfficialContact
from walletdesk.tickets import actions, wording
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

SCAM_ZH = "客服让我先支付解冻费才能提现，还让我打开 https://imt0ken.im/verify 验证钱包。"
HELD_REPLY = "Please pay the unlock fee to release funds, at https://wallet-help.xyz/pay before noon."
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def registry() -> None:
    for kind, value in [("domain", "token.im"), ("domain", "imtoken.com")]:
        OfficialContact.objects.get_or_create(
            kind=kind, value=value, defaults={"label_en": value, "label_zh": value}
        )


def desk(user: Any, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.cookies["django_language"] = language
    return client


def chips(page: str) -> dict[str, str]:
    return {
        code: re.sub(r"\s+", " ", text).strip()
        for code, text in re.findall(r'data-testid="flag" data-code="([a-z_]+)">⚠ ([^<]*)</p>', page)
    }


def risks(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="risk" data-code="([a-z_]+)">([^<]*)</li>', page))


def scam_ticket() -> Ticket:
    return actions.create_ticket(
        NewTicket(subject="解冻费是真的吗", body=SCAM_ZH, category="fees", email="kim@example.com")
    )


def test_the_shield_gives_codes_whose_english_is_the_stored_reason() -> None:
    signals = shield.scam_signals(SCAM_ZH, ["token.im", "imtoken.com"])
    assert {s.code for s in signals} >= {"fee_request", "lookalike_link"}
    for signal in signals:
        assert signal.reasons, signal
        assert shield.render_reasons(signal.reasons) == signal.reason
    held = shield.outbound_reply_risks(HELD_REPLY, ["token.im"])
    assert {r.reasons[0].key for r in held} == {"link_unofficial", "reply_fee_request"}
    assert dict(next(r for r in held if r.code == "unofficial_link").reasons[0].params) == {
        "url": "https://wallet-help.xyz/pay"
    }


def test_flags_are_chinese_on_a_chinese_desk_and_english_on_an_english_one(alice: Any) -> None:
    ticket = scam_ticket()
    stored = {f["code"]: f for f in ticket.flags}
    # What is stored stays readable English for the API, with the codes beside it.
    assert stored["fee_request"]["reason"].startswith("Asks for a fee")
    assert stored["fee_request"]["reasons"] == [{"key": "scam_fee_request", "params": {}}]
    imitated = stored["lookalike_link"]["reasons"][0]["params"]["domain"]
    assert imitated in ("token.im", "imtoken.com")

    zh = chips(desk(alice, "zh-hans").get(f"/agent/tickets/{ticket.reference}/").content.decode())
    assert zh["fee_request"] == "要求支付解冻、验证或提现费用；真正的客服是免费的。"
    # The look-alike link keeps the verifier's explanation, worded in Chinese, not "Links to X".
    assert "imt0ken.im" in zh["lookalike_link"] and imitated in zh["lookalike_link"]
    assert HAN.search(zh["lookalike_link"]) and not re.search(
        r"\b(official|typo|away)\b", zh["lookalike_link"]
    )
    assert zh["lookalike_link"].endswith("。")

    hant = chips(desk(alice, "zh-hant").get(f"/agent/tickets/{ticket.reference}/").content.decode())
    assert hant["fee_request"] == "要求支付解凍、驗證或提現費用；真正的客服是免費的。"

    en = chips(desk(alice, "en").get(f"/agent/tickets/{ticket.reference}/").content.decode())
    assert en["fee_request"] == "Asks for a fee to unlock, verify or release funds; real support is free."
    assert en["lookalike_link"] == stored["lookalike_link"]["reason"]

    inbox = desk(alice, "zh-hans").get("/agent/", {"view": "all"}).content.decode()
    assert 'title="要求支付解冻、验证或提现费用；真正的客服是免费的。"' in inbox


def test_old_rows_with_english_reasons_still_read(alice: Any) -> None:
    ticket = scam_ticket()
    old = [
        {
            "code": "fee_request",
            "reason": "Asks for a fee to unlock, verify or release funds; real support is free.",
        },
        {
            "code": "lookalike_link",
            "reason": "imt0ken.im is one typo away from the official token.im (an extra letter).",
        },
        {"code": "new_detector", "reason": "Something the next shield says."},
    ]
    Ticket.objects.filter(pk=ticket.pk).update(flags=old)
    zh = chips(desk(alice, "zh-hans").get(f"/agent/tickets/{ticket.reference}/").content.decode())
    assert zh["fee_request"] == "要求支付解冻、验证或提现费用；真正的客服是免费的。"
    assert zh["lookalike_link"] == "链接到 imt0ken.im，该网站冒充官方网站。"
    assert zh["new_detector"] == "Something the next shield says."


def test_tampered_or_unknown_codes_fall_back_and_parameters_are_escaped(alice: Any) -> None:
    ticket = scam_ticket()
    hostile = [
        {
            "code": "unofficial_link",
            "reason": "Links to https://x.example/<b>, which is not an official site.",
            "reasons": [{"key": "link_unofficial", "params": {"url": '"><script>alert(1)</script>'}}],
        },
        {"code": "fee_request", "reason": "stored", "reasons": [{"key": "no_such_key", "params": {}}]},
        {"code": "urgency", "reason": "stored", "reasons": [{"key": "link_unofficial", "params": {}}]},
        {"code": "remote_access", "reason": "stored", "reasons": "not a list"},
    ]
    Ticket.objects.filter(pk=ticket.pk).update(flags=hostile)
    page = desk(alice, "zh-hans").get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    zh = chips(page)
    # An unknown key, a missing parameter or a broken list: the code's own wording.
    assert zh["fee_request"] == "要求支付解冻、验证或提现费用；真正的客服是免费的。"
    assert HAN.search(zh["urgency"]) and HAN.search(zh["remote_access"])


@pytest.mark.parametrize(
    ("language", "fee", "link"),
    [
        ("zh-hans", "这条回复要求客户支付费用。", "链接到 https://wallet-help.xyz/pay，该网站不是官方网站。"),
        ("zh-hant", "這條回覆要求客戶支付費用。", "連結到 https://wallet-help.xyz/pay，該網站不是官方網站。"),
        (
            "en",
            "The reply asks the customer to pay a fee.",
            "Links to https://wallet-help.xyz/pay, which is not an official site.",
        ),
    ],
)
def test_a_held_reply_says_why_in_the_agents_language(alice: Any, language: str, fee: str, link: str) -> None:
    ticket = scam_ticket()
    client = desk(alice, language)
    answer = client.post(f"/agent/tickets/{ticket.reference}/reply/", {"body": HELD_REPLY})
    assert answer.status_code == 400
    held = risks(answer.content.decode())
    assert held == {"fee_request": fee, "unofficial_link": link}
    assert not Message.objects.filter(ticket=ticket, body=HELD_REPLY).exists()


def test_the_api_keeps_its_english_code_and_reason_shape(alice: Any) -> None:
    with translation.override("zh-hans"):
        record = wording.flag_text({"code": "x", "reason": "r", "reasons": [{"key": "reply_secret_request"}]})
    assert record == "这条回复索要助记词或私钥。"
    ticket = scam_ticket()
    answer = desk(alice, "zh-hans").get(f"/api/v1/tickets/{ticket.reference}")
    assert answer.status_code == 200, answer.content[:300]
    flags = {f["code"]: f for f in answer.json()["flags"]}
    assert flags["fee_request"]["reason"].startswith("Asks for a fee")
    assert flags["fee_request"] == {"code": "fee_request", "reason": ticket.flags[0]["reason"]}


def test_the_flags_are_not_shown_to_a_customer_or_another_team(alice: Any, bob: Any, carol: Any) -> None:
    ticket = scam_ticket()
    assert desk(carol, "zh-hans").get(f"/agent/tickets/{ticket.reference}/").status_code in (302, 403, 404)
    assert Client().get(f"/agent/tickets/{ticket.reference}/").status_code in (302, 403)
    secret = actions.create_ticket(
        NewTicket(
            subject="钱包被盗",
            body="我的钱包被盗了，有人让我先交解冻费才能找回资产，请帮忙。",
            category="unauthorised_tx",
            email="lee@example.com",
        )
    )
    assert secret.team is not None and secret.team.slug == "security"
    assert desk(alice, "zh-hans").get(f"/agent/tickets/{secret.reference}/").status_code == 404
    page = desk(bob, "zh-hans").get(f"/agent/tickets/{secret.reference}/").content.decode()
    assert chips(page)["fee_request"] == "要求支付解冻、验证或提现费用；真正的客服是免费的。"
    # A reply to someone else's ticket is refused before the guard says anything about it.
    answer = desk(carol, "zh-hans").post(f"/agent/tickets/{ticket.reference}/reply/", {"body": HELD_REPLY})
    assert answer.status_code in (302, 403, 404)
    assert "这条回复" not in answer.content.decode()
