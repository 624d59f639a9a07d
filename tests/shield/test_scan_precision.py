"""Ordinary support text must come through untouched."""

import secrets

import pytest

from tests.shield.support_corpus import EN_LINES, ZH_LINES, support_messages
from walletdesk.shield import scan

MESSAGE_COUNT = 10_500


def test_no_findings_in_ordinary_support_messages():
    messages = support_messages(MESSAGE_COUNT)
    flagged = [(message, scan(message).findings) for message in messages]
    flagged = [(message, findings) for message, findings in flagged if findings]
    size = sum(len(message.encode()) for message in messages) / 1e6
    print(
        f"\nfalse positives: {len(flagged)} of {len(messages)} ordinary messages ({size:.1f} MB, Faker en_US/zh_CN/zh_TW)"
    )
    assert not flagged, flagged[:3]


@pytest.mark.parametrize("line", [*EN_LINES, *ZH_LINES])
def test_support_lines_unchanged(line):
    assert scan(line).redacted == line


@pytest.mark.parametrize(
    "text",
    [
        "I want to access my account but the app will not open after the update, please help",
        "Please help me, I cannot access my account. The app will not open after the update and I have funds inside.",
        "收款地址 0x" + "ab" * 20 + "，付款地址 TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq is my bitcoin address",
        "订单号 2026112512345678901，金额 100 USDT",
        "我的钱包打不开了怎么办请帮我看一下是什么问题谢谢你们",
        "今天天气很好我们一起去公园散步然后吃饭",
        "这个月的质押收益为什么变少了是不是规则变了",
        "我在交易所提币到钱包地址但是一直没有到账请问是什么原因",
        "Version 2.14.3 (build 1024) on iPhone 15 Pro, iOS 18.1",
        "abandon is the first word of the English list and zoo is the last",
        "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat.",
        "0x" + "0" * 64,
        "https://etherscan.io/tx/0x" + secrets.token_hex(32),
        "TxHash: " + secrets.token_hex(32),
        "SHA256 of the installer: " + secrets.token_hex(32),
    ],
)
def test_hand_written_ordinary_text(text):
    assert not scan(text), scan(text)
