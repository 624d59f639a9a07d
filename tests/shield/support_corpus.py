"""Ordinary support messages (Chinese and English) that contain no secret.

Built from Faker (en_US, zh_CN, zh_TW locales) plus support templates that carry the things a
redactor must leave alone: transaction hashes with their cues, explorer URLs, Ethereum,
Bitcoin and Tron addresses, order numbers, amounts, versions. Chinese is also emitted without
punctuation, the way people type in chat, because that is where the Chinese wordlists (the
2,048 most common characters) are most likely to be mistaken for a phrase.
"""

import random
import re
import secrets
import string

from faker import Faker

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

EN_LINES = [
    "I want to access my account but the app will not open after the update, please help",
    "My transfer has been pending for three hours, can you check what happened?",
    "I forgot my password and the reset email never arrived.",
    "Why was I charged such a high network fee for a small transfer?",
    "The balance shows zero after I switched to a new phone.",
    "I entered the wrong password too many times and now my account is locked.",
    "Someone on Telegram said they are support and asked me to pay an unlock fee, is that you?",
    "How do I add a custom token to my wallet?",
    "The swap failed but the gas was still taken.",
    "Please confirm whether this address belongs to your exchange partner.",
    "I can't log in, it says network error every time.",
    "Thanks for the quick reply, it works now!",
    "I bought a new phone, how do I restore my wallet safely?",
    "The dapp browser keeps crashing on Android 14.",
    "Can you explain why my staking rewards are lower this month?",
    "I received some random tokens I never bought, are they safe to sell?",
    "Order number {order} still shows as processing.",
    "Device: {device}, app version {version}.",
]
ZH_LINES = [
    "我的钱包打不开了怎么办",
    "转账三个小时还没到账，麻烦帮我查一下",
    "密码忘记了，重置邮件一直收不到",
    "为什么这笔转账的矿工费这么高",
    "换了新手机以后余额显示为零",
    "密码输错太多次账户被锁定了",
    "有人在电报上说是客服让我付解冻费，是你们吗",
    "怎么添加自定义代币",
    "兑换失败了但是手续费还是扣了",
    "请确认一下这个地址是不是你们的合作方",
    "登录的时候一直提示网络错误",
    "谢谢你们的回复现在可以用了",
    "我买了新手机怎么安全地恢复钱包",
    "安卓系统上浏览器一直闪退",
    "这个月的质押收益为什么变少了",
    "收到了一些莫名其妙的代币可以卖吗",
    "订单号{order}一直显示处理中",
    "设备{device}，版本{version}",
    "你好我想问一下我的账户为什么被冻结了能不能帮我解冻一下谢谢",
    "我昨天晚上在交易所提币到钱包地址但是现在还没有到账请问是什么原因",
    "我的助记词是安全的我没有告诉任何人只是想问一下怎么备份",
]
TX_TEMPLATES = [
    "TxID: {tx}",
    "tx hash {tx} has not confirmed yet",
    "Transaction hash: {tx0x}",
    "here is the transaction {tx0x}, it was sent to {eth}",
    "https://etherscan.io/tx/{tx0x}",
    "https://tronscan.org/#/transaction/{tx}",
    "https://bscscan.com/tx/{tx0x} please check",
    "交易哈希：{tx0x}",
    "交易哈希 {tx}",
    "转账记录 {tx0x} 一直没有到账",
    "这是我的交易hash {tx}",
    "充值的txid是{tx}",
    "block hash {tx0x}",
    "the deposit {tx} is missing",
    "我的以太坊地址 {eth}，收款地址 {eth}",
    "BTC address {btc}",
    "比特币地址：{bech32}",
    "波场地址 {tron} 收不到USDT",
    "Tron address: {tron}",
    "订单号：{order}，金额 {amount} USDT",
    "Order #{order} for {amount} ETH",
    "我的手机号 {phone}，邮箱 {email}",
    "Contact me at {email} or {phone}",
    "版本 {version}，{device}",
]


def _hex(n: int) -> str:
    return secrets.token_hex(n // 2)


def _base58(n: int, rng: random.Random) -> str:
    return "".join(rng.choice(_BASE58) for _ in range(n))


def _fill(template: str, rng: random.Random, fake_en: Faker) -> str:
    return template.format(
        tx=_hex(64),
        tx0x="0x" + _hex(64),
        eth="0x" + _hex(40),
        btc="1" + _base58(33, rng),
        bech32="bc1q" + "".join(rng.choice(_BECH32) for _ in range(38)),
        tron="T" + _base58(33, rng),
        order="".join(rng.choice(string.digits) for _ in range(rng.choice((12, 16, 19)))),
        amount=f"{rng.uniform(0.001, 5000):.4f}",
        phone=fake_en.phone_number(),
        email=fake_en.email(),
        version=f"{rng.randint(2, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        device=rng.choice(["iPhone 15 Pro", "Pixel 8", "Xiaomi 14", "华为 Mate 60", "OPPO Find X7"]),
    )


_ZH_PUNCTUATION = re.compile(r"[，。！？、；：,.!?;:]")


def support_messages(count: int, seed: int = 20261125) -> list[str]:
    """``count`` ordinary messages, deterministic for a given seed (hashes use ``secrets``)."""
    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in ("en_US", "zh_CN", "zh_TW")}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + offset)
    fake_en = fakers["en_US"]
    messages: list[str] = []
    for number in range(count):
        locale = ("en_US", "zh_CN", "zh_TW")[number % 3]
        faker = fakers[locale]
        parts: list[str] = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.3:
                parts.append(faker.paragraph(nb_sentences=rng.randint(1, 5)))
            elif roll < 0.55:
                lines = EN_LINES if locale == "en_US" else ZH_LINES
                parts.append(_fill(rng.choice(lines), rng, fake_en))
            elif roll < 0.8:
                parts.append(_fill(rng.choice(TX_TEMPLATES), rng, fake_en))
            elif roll < 0.9:
                parts.append(f"{faker.name()} {faker.address()} {faker.company()}")
            else:
                parts.append(faker.text(max_nb_chars=300))
        message = rng.choice(("\n", " ", "")).join(parts)
        if locale != "en_US" and rng.random() < 0.5:
            message = _ZH_PUNCTUATION.sub("", message)  # chat style: no punctuation at all
        messages.append(message)
    return messages


def mixed_text(size_bytes: int, seed: int = 7) -> str:
    """About ``size_bytes`` of UTF-8 support conversation, for benchmarks.

    Unlike :func:`support_messages` (built to be hard for the detector), this reads like a
    real inbox: punctuated Chinese and English, one hash or address in some messages.
    """
    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in ("en_US", "zh_CN", "zh_TW")}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + offset)
    fake_en = fakers["en_US"]
    chunks: list[str] = []
    total = 0
    while total < size_bytes:
        locale = rng.choice(("en_US", "zh_CN", "zh_CN", "zh_TW"))
        faker = fakers[locale]
        lines = EN_LINES if locale == "en_US" else ZH_LINES
        parts = [_fill(rng.choice(lines), rng, fake_en) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.5:
            parts.append(faker.sentence(nb_words=rng.randint(4, 12)))
        if rng.random() < 0.2:
            parts.append(_fill(rng.choice(TX_TEMPLATES), rng, fake_en))
        if rng.random() < 0.1:
            parts.append(f"{faker.name()} {faker.address()}")
        separator = " " if locale == "en_US" else "，"
        message = separator.join(parts)
        chunks.append(message)
        total += len(message.encode("utf-8")) + 2
    return "\n\n".join(chunks)


def adversarial_text(size_bytes: int, seed: int = 7) -> str:
    """About ``size_bytes`` of :func:`support_messages` joined: worst case for the detector."""
    chunks: list[str] = []
    total = 0
    batch = 0
    while total < size_bytes:
        for message in support_messages(500, seed + batch):
            chunks.append(message)
            total += len(message.encode("utf-8")) + 2
        batch += 1
    return "\n\n".join(chunks)
