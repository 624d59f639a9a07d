"""Literal skips: a regex is skipped only when none of the literals its matches start with
occurs. That must never change what is found."""

from __future__ import annotations

import random
import re
import string

import pytest

from walletdesk.shield import scam
from walletdesk.shield.literals import (
    IGNORECASE_SPECIALS,
    LiteralIndex,
    finditer,
    literal_needles,
    literal_starts,
    lowered_for_literals,
    may_contain,
    may_match,
)
from walletdesk.shield.scam import outbound_reply_risks, scam_signals

OFFICIAL = ["token.im", "imtoken.com"]


@pytest.mark.parametrize(
    ("pattern", "starts"),
    [
        (r"\b(drained|emptied)\b", ("drained", "emptied")),
        (r"\block(ed)?\s*out", ("lock",)),  # "locked" begins with "lock"
        (r"(请)?转账", ("请转账", "转账")),  # where a match starts, for finditer
        (r"\bAny\s?Desk|todesk", ("any", "todesk")),
        (r"ab+c", ("ab",)),
        (r"(a|b*)c", ("ac", "b", "c")),
        (r".{0,5}fee", None),
        (r"(?:\d+|两)小时", None),
        (r"[ab]c", ("ac", "bc")),  # a class of literals is a branch of one-character literals
        (r"(要|让)我", ("要我", "让我")),  # the parser turns (要|让) into a class
        (r"[a-c]x", None),  # a range: not followed
        (r"[^a]x", None),
        (r"(?i:x)y", None),  # a local flag: not followed
    ],
)
def test_literal_starts(pattern: str, starts: tuple[str, ...] | None) -> None:
    assert literal_starts(pattern) == starts


def test_every_match_contains_one_of_the_starts() -> None:
    rng = random.Random(5)
    alphabet = "ab转账 \n"
    for pattern in [r"\b(drained|emptied)\b", r"(a|b*)c", r"(请)?转账", r"ab+c|b{2,3}a", r"(?:a|ba)?b+"]:
        compiled, starts = re.compile(pattern, re.IGNORECASE), literal_starts(pattern)
        for _ in range(500):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            if starts is not None and compiled.search(text):
                assert any(s in text.lower() for s in starts), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "needles"),
    [
        (r"(?:\d+|两)\s*(?:个)?小时内", ((("小时内",),),)),  # no start, but always "小时内"
        (r"限时|\bwithin\s+\d+\s*(?:hours?|days?)", ((("限时",),), (("within",), ("day", "hour")))),
        (r"\bfunds?\s+will\s+be\s+(?:lost|frozen)", ((("fund",), ("will",), ("be",), ("frozen", "lost")),)),
        (r"[a-z]+\.(?:com|io)\b", (((".com", ".io"),),)),  # the tail's starts
        (r"\bdrained\b", ((("drained",),),)),
        (r".{0,5}", None),
        (r"\d+|fee", None),  # one alternative holds no literal at all
    ],
)
def test_literal_needles(pattern: str, needles: object) -> None:
    assert literal_needles(pattern) == needles


# Patterns with and without starts, needles in tails, classes and repeats, and texts made of
# their pieces, so that the skips are tried where they matter: a skip may make a scan cheaper,
# never change what it finds.
_SKIP_PATTERNS = [
    r"\b(drained|emptied)\b",
    r"(a|b*)c",
    r"(请)?转账",
    r"ab+c|b{2,3}a",
    r"(?:a|ba)?b+",
    r"[ab]c[ab]",
    r"(?:\d+|两)\s*(?:个)?小时内",
    r"\b(?:pay|send)\b[^.!?\n]{0,12}?\b(?:fee|tax)\b",
    r"\bab(?=c)|(?<=c)ba",
    r"[a-z0-9]+\.(?:ab|ba)\b",
]


def test_skips_never_change_the_matches() -> None:
    rng = random.Random(7)
    alphabet = ["a", "b", "c", "A", "B", "转账", "请", "两", "２", "4", " 小时内", "小时内", "个", " ", "."]
    alphabet += ["\n"]
    alphabet += ["pay ", "send ", " fee", " TAX ", "drained", "EMPTIED", "ab", "ba", "ſ", "İ", "K", "ı"]
    for pattern in _SKIP_PATTERNS:
        compiled = re.compile(pattern, re.IGNORECASE)
        starts, needles = literal_starts(pattern), literal_needles(pattern)
        for _ in range(1500):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
            lowered = lowered_for_literals(text)
            expected = [(m.start(), m.end()) for m in compiled.finditer(text)]
            assert [(m.start(), m.end()) for m in finditer(compiled, text, lowered, starts)] == expected, (
                pattern,
                text,
            )
            if expected:
                assert may_contain(lowered, needles), (pattern, text)


def test_lower_keeps_every_position_but_one() -> None:
    # finditer maps places in the lowered text onto the text: true for every code point but
    # U+0130, which lowered_for_literals refuses.
    every = (chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    assert {c for c in every if len(c.lower()) != 1} == {"\u0130"} <= IGNORECASE_SPECIALS


def test_ignorecase_specials_are_all_the_non_ascii_letters_ascii_letters_match() -> None:
    every = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    letters = re.compile("|".join(string.ascii_lowercase), re.IGNORECASE)
    assert {c for c in letters.findall(every) if not c.isascii()} == IGNORECASE_SPECIALS
    assert lowered_for_literals("Is This Real") == "is this real"
    assert lowered_for_literals("\u0130s this real") is None
    assert may_match(None, ("x",)) and may_match("abc", None) and not may_match("abc", ("x",))


def test_scam_patterns_use_the_skip() -> None:
    assert sum(starts is not None for starts in scam._STARTS.values()) >= 4
    assert all(needles is not None for needles in scam._NEEDLES.values())  # urgency has no starts
    assert scam._URL_NEEDLES is not None


def test_skipping_never_changes_the_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(9)
    fragments = [lit for starts in scam._STARTS.values() for lit in starts or ()]
    fragments += [
        "支付",
        "手续费",
        "才能",
        "转账",
        "到",
        "地址",
        "please send",
        " to this address",
        " fee ",
        " before ",
    ]
    fragments += ["AnyDesk", "SEND", "your SEED PHRASE", "within 24 hours", "冻结", "助记词", "发给我"]
    fragments += [
        " ",
        "，",
        "。",
        "\n",
        "ſ",
        "K",
        "İ",
        "ı",
        "ß",
        "https://token.im/x",
        "www.imtoken-help.com",
    ]
    texts = [
        "Plea\u017fe \u017fend your \u017feed phra\u017fe to verify",
        "pay the unlock fee before withdrawal",
        "请提供助记词以便验证",
    ]
    for _ in range(3000):
        words = [rng.choice(fragments) for _ in range(rng.randint(1, 10))]
        texts.append("".join(w if rng.random() < 0.7 else w.upper() for w in words))
    fast = [(scam_signals(t, OFFICIAL), outbound_reply_risks(t, OFFICIAL)) for t in texts]
    # Every skip off: no literal index, no starts, no needles; each pattern scans the text.
    monkeypatch.setattr(scam, "_SKIPS", {id(p): (None, None) for p in scam._PATTERNS})
    monkeypatch.setattr(scam, "_INDEX", LiteralIndex([]))
    monkeypatch.setattr(scam, "_URL_NEEDLES", None)
    slow = [(scam_signals(t, OFFICIAL), outbound_reply_risks(t, OFFICIAL)) for t in texts]
    assert fast == slow
    assert sum(bool(f[0]) for f in fast) > 500  # the texts do trigger signals


def test_literal_index_finds_exactly_the_literals_that_occur() -> None:
    """One scan (Aho-Corasick) must report the same literals as an `in` test per literal:
    overlapping ones ("he" inside "she"), nested ones, repeated ones, Chinese, none at all."""
    import random

    from walletdesk.shield.literals import LiteralIndex

    rng = random.Random(5)
    alphabet = "abehrs 钱包被盗 .:/"
    literals = ["he", "she", "his", "hers", "s", "钱包", "包被", "被盗了", "://", "www.", "a" * 3]
    literals += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(200)]
    index = LiteralIndex(literals)
    texts = ["", "ushers", "我的钱包被盗了", "https://www.x", "aaaa"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    for text in texts:
        assert index.present(text) == {lit for lit in literals if lit and lit in text}, text
    assert LiteralIndex([]).present("anything") == frozenset()
