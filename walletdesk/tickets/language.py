"""The language a customer wrote in, so we answer in it, not in the language of the page.

A customer on an English page who writes in Chinese gets a Chinese acknowledgement (and the
other way round). Ticket creation runs hundreds of times a second, so this is a single pass
over the first few hundred characters: count Chinese characters and Latin words. Only when the
text is clearly Chinese is Simplified or Traditional decided, with opencc's character tables
(t2s changes only Traditional characters) over the Chinese characters of that sample.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings

SAMPLE = 400  # characters of subject + body looked at; enough to tell, cheap at any length
_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK)


@cache
def _t2s() -> Any:
    # Loaded once per process (the dictionaries take a few milliseconds to read).
    from opencc import OpenCC

    return OpenCC("t2s")


def _chinese_variant(han: str) -> str:
    """zh-hant when the sample has more Traditional-only characters than Simplified-only ones."""
    simplified = _t2s().convert(han)
    traditional_only = sum(1 for a, b in zip(han, simplified, strict=False) if a != b)
    if traditional_only == 0:
        return "zh-hans"
    # A character t2s leaves alone is shared or Simplified; a Simplified-only one is a sign too.
    # Counting the changes against the length keeps one stray Traditional form (a name, a
    # quoted brand) from turning a Simplified message Traditional.
    return "zh-hant" if traditional_only * 4 >= len(han) else "zh-hans"


def _supported(code: str) -> str:
    # zh-hant is stored only once the interface offers it; until then it is answered in zh-hans.
    return code if code in dict(settings.LANGUAGES) else "zh-hans"


def detect(text: str) -> str | None:
    """ "zh-hans", "zh-hant", "en", or None when the text says too little (a tx hash, "help")."""
    sample = text[:SAMPLE]
    han: list[str] = []
    latin_words = 0
    in_word = False
    word_len = 0
    word_pure = True
    for ch in sample + " ":
        if _is_cjk(ch):
            han.append(ch)
        if ch.isascii() and ch.isalnum():
            in_word = True
            word_len += 1
            word_pure = word_pure and ch.isalpha()
            continue
        if in_word and word_pure and word_len >= 2:
            # Only letters-only words count: a hash or an address (0x3f…, bc1q…) is no language.
            latin_words += 1
        in_word, word_len, word_pure = False, 0, True
    # One Chinese character says about as much as one English word; a Chinese name inside an
    # English sentence stays English, and English product names inside Chinese stay Chinese.
    if len(han) >= 4 or (han and len(han) >= latin_words):
        return _supported(_chinese_variant("".join(han)))
    if latin_words >= 3:
        return "en"
    return None


def for_ticket(text: str, page_language: str) -> str:
    """The text's language when it can be told, else the page's (normalised to what we store)."""
    page = page_language.lower()
    fallback = (
        ("zh-hant" if page in ("zh-hant", "zh-tw", "zh-hk") else "zh-hans") if page.startswith("zh") else "en"
    )
    found = detect(text)
    if found is None:
        return _supported(fallback) if fallback.startswith("zh") else fallback
    return found
