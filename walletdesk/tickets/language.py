"""The language a customer wrote in, so we answer in it, not in the language of the page.

A customer on an English page who writes in Chinese gets a Chinese acknowledgement (and the
other way round). Ticket creation runs hundreds of times a second, so this is a single pass
over the first few hundred characters: count Chinese characters and Latin words. Only when the
text is clearly Chinese is Simplified or Traditional decided, by counting the characters that
exist in one script only, taken from opencc's character tables.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from django.conf import settings

SAMPLE = 400  # characters of subject + body looked at; enough to tell, cheap at any length
# CJK Unified Ideographs, Extension A, and the compatibility block.
_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2,}(?![0-9A-Za-z])")


def _only(table: str) -> frozenset[str]:
    """Characters the opencc table maps to something else: they exist in one script only."""
    path = resources.files("opencc") / "dictionary" / table
    found = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if len(key) == 1 and key not in values.split():
            found.add(key)
    return frozenset(found)


@cache
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    # Read once per process (about 4,000 characters each). opencc's converter itself runs a
    # phrase matcher in pure Python (~4 ms on 400 characters); set look-ups take microseconds.
    traditional, simplified = _only("TSCharacters.txt"), _only("STCharacters.txt")
    both = traditional & simplified  # written the same way in both somewhere: no evidence
    return traditional - both, simplified - both


def _chinese_variant(han: str) -> str:
    """zh-hant when the sample has more Traditional-only characters than Simplified-only ones;
    text with neither (common characters only) is taken as Simplified, the usual case."""
    traditional, simplified = _scripts()
    t = sum(1 for ch in han if ch in traditional)
    s = sum(1 for ch in han if ch in simplified)
    return "zh-hant" if t > s else "zh-hans"


def _supported(code: str) -> str:
    # zh-hant is stored only once the interface offers it; until then it is answered in zh-hans.
    return code if code in dict(settings.LANGUAGES) else "zh-hans"


def detect(text: str) -> str | None:
    """ "zh-hans", "zh-hant", "en", or None when the text says too little (a tx hash, "help")."""
    sample = text[:SAMPLE]
    han = _HAN.findall(sample)
    # Only letters-only words count: a hash or an address (0x3f…, bc1q…) is no language.
    latin_words = len(_LATIN_WORD.findall(sample))
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
