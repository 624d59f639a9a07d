"""Scam signals in a message (inbound) and risks in an agent's reply (outbound).

The patterns are the ones wallet-support scams actually use, in Chinese and English: a fee
to "unlock" or "verify" the wallet, remote-control apps, deadlines and freezing threats,
links to look-alike sites, and — the goal of all of them — the recovery phrase.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .lists import PhishingLists
from .literals import (
    LiteralIndex,
    Needles,
    finditer,
    literal_needles,
    literal_starts,
    lowered_for_literals,
    may_contain,
    may_contain_present,
    needle_literals,
    present_among,
)
from .reasons import Reason, render
from .registry import OfficialRegistry, compile_registry
from .verifier import verify_contact


@dataclass(frozen=True, slots=True)
class Signal:
    code: str  # fee_request, remote_access, urgency, secret_request, lookalike_link, unofficial_link, payment_request
    reason: str  # English (what the API and old rows show)
    excerpt: str  # the words that triggered it
    start: int = 0
    end: int = 0
    # The same explanation as codes with parameters, for a page to word in its own language
    # (``reasons.render`` with that language's Wording); ``reason`` is their English.
    reasons: tuple[Reason, ...] = ()


# Reason codes of each pattern, inbound (a customer's text) and outbound (an agent's reply).
# Their English is in reasons.ENGLISH.
_INBOUND = {
    "fee_request": Reason.of("scam_fee_request"),
    "remote_access": Reason.of("scam_remote_access"),
    "urgency": Reason.of("scam_urgency"),
    "secret_request": Reason.of("scam_secret_request"),
}
_OUTBOUND = {
    "fee_request": Reason.of("reply_fee_request"),
    "payment_request": Reason.of("reply_payment_request"),
    "secret_request": Reason.of("reply_secret_request"),
}


_I = re.IGNORECASE
_FEE_REQUEST = re.compile(
    r"(?:支付|缴纳|交纳|缴|交|付|转入|充值|补交|先交|需要|收取)[^。！？\n]{0,12}?"
    r"(?:手续费|解冻费|激活费|保证金|验证费|认证费|解锁费|提现费|服务费|税费|燃料费|押金|gas费|升级费|会员费|通道费)"
    r"|(?:手续费|解冻费|激活费|保证金|验证费|认证费|解锁费|提现费|押金|通道费)[^。！？\n]{0,8}?"
    r"(?:才能|方可|即可|后才|之后)"
    r"|\b(?:unlock(?:ing)?|verification|verify|activation|activate|gas|withdrawal|release|clearance|"
    r"maintenance|security|anti[- ]money[- ]laundering|aml|tax|upgrade|validation|synchroni[sz]ation|"
    r"migration|whitelist)\s+(?:fee|deposit|charge|payment)s?\b"
    r"|\b(?:pay|send|transfer|deposit)\b[^.!?\n]{0,40}?\b(?:fee|deposit|tax|charge)\b[^.!?\n]{0,40}?"
    r"\b(?:to|before|in order to)\b",
    _I,
)
_PAYMENT_REQUEST = re.compile(
    r"(?:请|麻烦|需要|先)?(?:转账|转|汇款|打款|支付|付款|充值)(?:\s*[0-9.,]+\s*(?:u|usdt|eth|btc|trx|元|块))?"
    r"[^。！？\n]{0,10}?(?:到|至|给)(?:以下|下面|这个|我们的?|客服的?)?(?:地址|账户|账号|钱包)"
    r"|\b(?:please\s+)?(?:pay|send|transfer|deposit)\b[^.!?\n]{0,40}?\bto\s+(?:this|our|the following|"
    r"the below|my|the)\s+(?:address|wallet|account)\b",
    _I,
)
_REMOTE_ACCESS = re.compile(
    r"\b(?:any\s?desk|team\s?viewer|quick\s?support|rust\s?desk|ultra\s?viewer|splashtop|"
    r"chrome remote desktop|supremo|zoho assist|screen\s?connect|logmein)\b|向日葵|todesk|"
    r"\b(?:screen[- ]shar(?:e|ing)|share (?:your|the) screen|remote (?:access|control|desktop|assistance))\b|"
    r"屏幕共享|共享屏幕|远程控制|远程协助|远程操作|远程桌面",
    _I,
)
_URGENCY = re.compile(
    r"(?:\d+|二十四|两|三)\s*(?:个)?小时内|限时|立即处理|尽快处理|马上处理|否则|永久冻结|冻结|封号|封禁|注销|"
    r"清零|资产(?:将|会)被|最后通知|逾期|"
    r"\bwithin\s+\d+\s*(?:hours?|hrs?|minutes?|mins?|days?)\b|\b(?:immediately|urgent(?:ly)?|final (?:warning|notice)|"
    r"last (?:warning|chance)|legal action|permanently)\b|"
    r"\b(?:account|wallet|assets?|funds?)\s+(?:will|shall|may)\s+be\s+(?:frozen|suspended|locked|closed|"
    r"terminated|deleted|lost|blocked)\b",
    _I,
)
_SECRET_REQUEST = re.compile(
    r"(?:提供|发送|发给|输入|告诉|填写|导入|提交|验证|核对|截图|拍照|报一下|给我)[^。！？\n]{0,10}?"
    r"(?:助记词|助記詞|私钥|私鑰|密钥|恢复短语|恢復短語|keystore|种子短语)"
    r"|(?:助记词|助記詞|私钥|私鑰|恢复短语)[^。！？\n]{0,10}?(?:发给|发送|提供|告诉|填写|输入)"
    r"|\b(?:send|share|provide|enter|give|type|confirm|verify|submit|tell|paste|import|sync|validate|"
    r"upload)\b[^.!?\n]{0,40}?\b(?:(?:seed|recovery|secret|mnemonic|backup)\s+(?:phrase|words|key)s?|"
    r"mnemonic|private\s+keys?|keystore)\b",
    _I,
)
_URL = re.compile(
    r"(?:https?|hxxps?)://[^\s<>\"'）)】，。]+|www\.[^\s<>\"'）)】，。]+|"
    r"\b[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"\.(?:com|net|org|io|im|app|xyz|top|cc|vip|info|co|me|pro|link|site|online|shop|club|live|"
    r"cn|hk|tw|ru|finance|exchange|wallet|support|help|services?|tech|biz|ly|gg|to)\b(?:/[^\s<>\"'）)】，。]*)?",
    _I,
)
_EXCERPT_CONTEXT = 20
# What every match of each pattern starts with (None: unknown), and what it contains: most
# texts contain none of them, and a few `in` tests are far cheaper than scanning with the
# pattern; where one does occur, the pattern is tried only there (`literals.finditer`).
_PATTERNS = (_FEE_REQUEST, _PAYMENT_REQUEST, _REMOTE_ACCESS, _URGENCY, _SECRET_REQUEST)
_STARTS = {p: literal_starts(p.pattern) for p in _PATTERNS}
_NEEDLES = {p: literal_needles(p.pattern) for p in _PATTERNS}
_URL_NEEDLES = literal_needles(_URL.pattern)
_SKIPS = {id(p): (_STARTS[p], _NEEDLES[p]) for p in _PATTERNS}
# All of those literals in one automaton: one scan of the lowered text says which occur, and
# each pattern's test is then a few set operations (the subject and body of every ticket and
# mail are checked).
_INDEX = LiteralIndex(
    dict.fromkeys(
        [lit for p in _PATTERNS for lit in needle_literals(_NEEDLES[p]) + list(_STARTS[p] or ())]
        + needle_literals(_URL_NEEDLES)
    )
)


def scam_signals(
    text: str, official_domains: Iterable[str] | OfficialRegistry, lists: PhishingLists | None = None
) -> list[Signal]:
    """Scam patterns in an inbound text, in the order they occur.

    ``official_domains`` is a list of domains (["token.im", "imtoken.com"]) or a compiled
    :class:`OfficialRegistry`. Links to official domains raise nothing.
    """
    registry = _registry(official_domains)
    lowered, present = _literals_in(text)
    signals = [
        *_pattern_signals(text, lowered, present, _FEE_REQUEST, "fee_request", _INBOUND),
        *_pattern_signals(text, lowered, present, _REMOTE_ACCESS, "remote_access", _INBOUND),
        *_pattern_signals(text, lowered, present, _URGENCY, "urgency", _INBOUND),
        *_pattern_signals(text, lowered, present, _SECRET_REQUEST, "secret_request", _INBOUND),
        *_link_signals(text, lowered, present, registry, lists),
    ]
    return sorted(signals, key=lambda signal: signal.start)


def outbound_reply_risks(
    text: str, official_domains: Iterable[str] | OfficialRegistry, lists: PhishingLists | None = None
) -> list[Signal]:
    """Risks in an agent's reply that need an explicit override before it is sent:
    links outside the official domains, payment or fee requests, and asking for secrets."""
    registry = _registry(official_domains)
    lowered, present = _literals_in(text)
    signals = [
        *_link_signals(text, lowered, present, registry, lists),
        *_pattern_signals(text, lowered, present, _FEE_REQUEST, "fee_request", _OUTBOUND),
        *_pattern_signals(text, lowered, present, _PAYMENT_REQUEST, "payment_request", _OUTBOUND),
        *_pattern_signals(text, lowered, present, _SECRET_REQUEST, "secret_request", _OUTBOUND),
    ]
    return sorted(signals, key=lambda signal: signal.start)


def _registry(official_domains: Iterable[str] | OfficialRegistry) -> OfficialRegistry:
    if isinstance(official_domains, OfficialRegistry):
        return official_domains
    return compile_registry(tuple(("domain", domain) for domain in official_domains))


def _literals_in(text: str) -> tuple[str | None, frozenset[str] | None]:
    """The lowered text for the literal skips, and which indexed literals occur in it (both
    None when the text holds a character that makes lowering unsafe; see literals)."""
    lowered = lowered_for_literals(text)
    return lowered, _INDEX.present(lowered) if lowered is not None else None


def _may_contain(lowered: str | None, present: frozenset[str] | None, needles: Needles | None) -> bool:
    return may_contain(lowered, needles) if present is None else may_contain_present(present, needles)


def _pattern_signals(
    text: str,
    lowered: str | None,
    present: frozenset[str] | None,
    pattern: re.Pattern[str],
    code: str,
    reasons: dict[str, Reason],
) -> list[Signal]:
    # By id: hashing a compiled pattern hashes its whole source, several kB here.
    starts, needles = _SKIPS[id(pattern)]
    if not _may_contain(lowered, present, needles):
        return []
    if present is not None and starts is not None:
        starts = present_among(present, starts)
        if not starts:
            return []
    why = (reasons[code],)
    reason = render(why)
    signals = []
    for match in finditer(pattern, text, lowered, starts):
        signals.append(
            Signal(code, reason, _excerpt(text, match.start(), match.end()), match.start(), match.end(), why)
        )
    return signals


def _link_signals(
    text: str,
    lowered: str | None,
    present: frozenset[str] | None,
    registry: OfficialRegistry,
    lists: PhishingLists | None,
) -> list[Signal]:
    if not _may_contain(lowered, present, _URL_NEEDLES):
        return []  # no "://", "www." or ".com"-like ending: no link
    signals = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(".,;:!?")
        if "@" in text[max(0, match.start() - 1) : match.start()]:
            continue  # the domain of an email address; emails are not links
        verdict = verify_contact("url", url, registry, lists)
        if verdict.status == "official":
            continue
        if verdict.status == "impersonation":
            code, why = "lookalike_link", verdict.reasons
        else:
            code, why = "unofficial_link", (Reason.of("link_unofficial", url=url),)
        signals.append(Signal(code, render(why), url, match.start(), match.start() + len(url), why))
    return signals


def _excerpt(text: str, start: int, end: int) -> str:
    left = max(0, start - _EXCERPT_CONTEXT)
    right = min(len(text), end + _EXCERPT_CONTEXT)
    return ("…" if left else "") + text[left:right].replace("\n", " ") + ("…" if right < len(text) else "")
