"""A customer who writes Traditional Chinese is answered in Traditional Chinese by mail (#20).

The zh-hant mail templates are generated from the zh-hans ones (scripts/make_zh_hant); the
subject's fixed words are converted, the customer's own words and the agent's text never are.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail as django_mail

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import ingest
from walletdesk.core import mail
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

TRADITIONAL_SUBJECT = "帳戶被鎖定，請幫忙解鎖"
TRADITIONAL_BODY = "我的錢包帳戶被鎖定了，密碼輸入錯誤太多次，請問該怎麼辦？謝謝。"
SIMPLIFIED_SUBJECT = "账户被锁定，请帮忙解锁"
SIMPLIFIED_BODY = "我的钱包账户被锁定了，密码输入错误太多次，请问该怎么办？谢谢。"
# Characters only one script writes (们/們, 请/請, 账/帳, 户/戶, 联/聯 ...).
SIMPLIFIED_ONLY = set("们请账户联络让对这复门时间")
TRADITIONAL_ONLY = set("們請帳戶聯絡讓對這覆門時間")


def ack_to(address: str) -> Any:
    sent = [m for m in django_mail.outbox if m.to == [address]]
    assert len(sent) == 1, [m.subject for m in django_mail.outbox]
    return sent[0]


def ingested(raw: bytes) -> Ticket:
    result = ingest(raw, None)
    assert result.ticket_reference, result
    return Ticket.objects.get(reference=result.ticket_reference)


def test_mail_language_maps_every_chinese_code() -> None:
    assert [mail.language(c) for c in ("zh-hant", "zh-Hant-TW", "zh_TW", "zh-hk", "zh-mo")] == ["zh-hant"] * 5
    assert [mail.language(c) for c in ("zh-hans", "zh", "zh-cn", "zh-sg")] == ["zh-hans"] * 4
    assert [mail.language(c) for c in ("en", "", None, "fr", "zhx")] == ["en", "en", "en", "en", "en"]


def test_a_traditional_mail_gets_a_traditional_acknowledgement() -> None:
    ticket = ingested(make_mail("t1@example.tw", subject=TRADITIONAL_SUBJECT, body=TRADITIONAL_BODY,
                                sender="陳小明 <ming@example.tw>"))  # fmt: skip
    assert ticket.language == "zh-hant"
    ack = ack_to("ming@example.tw")
    assert ack.subject == f"[{ticket.reference}] 我們已收到您的請求：{TRADITIONAL_SUBJECT}"
    body = ack.body
    assert "感謝您聯絡客服。您的請求編號是" in body
    assert "回覆本郵件" in body and "回複" not in body
    # The footer (mail/base.txt, a catalogue string) follows the mail's language too.
    assert "客服永遠免費。" in body
    assert not SIMPLIFIED_ONLY & set(body.replace(ticket.reference, "")), sorted(SIMPLIFIED_ONLY & set(body))
    html = next(content for content, kind in ack.alternatives if kind == "text/html")
    assert "感謝您聯絡客服" in html and "查看您的請求" not in html and "檢視您的請求" in html


def test_a_simplified_mail_still_gets_a_simplified_one_and_english_stays_english() -> None:
    zh = ingested(make_mail("s1@example.cn", subject=SIMPLIFIED_SUBJECT, body=SIMPLIFIED_BODY))
    en = ingested(make_mail("e1@example.com", subject="Locked out", body="My wallet account is locked, please help.",
                            sender="Kim <kim@example.com>"))  # fmt: skip
    assert zh.language == "zh-hans" and en.language == "en"
    zh_ack, en_ack = ack_to("lilei@example.cn"), ack_to("kim@example.com")
    assert "我们已收到您的请求" in zh_ack.subject and "感谢您联系客服" in zh_ack.body
    assert not TRADITIONAL_ONLY & set(zh_ack.body)
    assert en_ack.subject.startswith(f"[{en.reference}] We received your request")
    assert "感" not in en_ack.body


def test_a_web_ticket_in_traditional_gets_the_account_wording_of_taiwan() -> None:
    ticket = actions.create_ticket(
        NewTicket(
            subject=TRADITIONAL_SUBJECT,
            body=TRADITIONAL_BODY,
            category="login_locked",
            email="wen@example.tw",
        )
    )
    assert ticket.language == "zh-hant"
    body = ack_to("wen@example.tw").body
    # The confirm line: 帳戶 (Taiwan) not 账户, 「我的請求」 in corner quotes.
    assert "您在我們這裡有帳戶" in body and "账户" not in body and "「我的請求」" in body


def test_the_agents_words_and_the_customers_subject_are_not_rewritten(alice: Any) -> None:
    subject = "{ref} {subject} 帳戶问题"  # braces and a Simplified character from the customer
    ticket = ingested(
        make_mail("t2@example.tw", subject=subject, body=TRADITIONAL_BODY, sender="ming@example.tw")
    )
    assert ticket.language == "zh-hant"
    django_mail.outbox.clear()
    actions.add_agent_message(ticket, "您好，请先尝试解锁链接。", agent=alice)
    reply = ack_to("ming@example.tw")
    assert reply.subject == f"[{ticket.reference}] 回覆：{subject}"
    assert "您好，请先尝试解锁链接。" in reply.body and "客服永遠免費。" in reply.body


def test_a_short_traditional_subject_only_mail_still_reads_traditional() -> None:
    ticket = ingested(
        make_mail("t3@example.tw", subject="", body="請幫忙，帳號登不進去。", sender="lin@example.tw")
    )
    assert ticket.language == "zh-hant"
    assert ticket.subject == "（無主旨）"
    assert "我們已收到您的請求" in ack_to("lin@example.tw").subject
