"""Simplified → Traditional Chinese for the zh-hant interface (Taiwan phrasing, read in Hong Kong).

One converter serves both the catalogues (`scripts/make_zh_hant` writes every app's zh_Hant
catalogue from its zh_Hans one) and the bilingual data that is not in a catalogue (category
names, help articles, team names): those are stored in English and Simplified Chinese only, and
a zh-hant page shows the Simplified text converted, so nobody has to keep a third copy in sync.

OpenCC's ``s2twp`` gives Taiwan characters *and* phrasing (软件 → 軟體, 登录 → 登入); it is what
readers in Taiwan expect and reads naturally in Hong Kong, where ``s2hk`` would keep mainland
words (软件 → 軟件, 默认 → 默認) that read as foreign in Taiwan. WORDS fixes the few characters
where OpenCC's choice is not the Taiwan standard (賬 → 帳, as in 帳號 and 帳戶), and quotes
become corner brackets (“ ” → 「 」).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.translation import get_language

# Applied after OpenCC, longest first. Keep it to what the Ministry of Education's standard
# forms and Taiwan usage say; a whole-sentence fix belongs in walletdesk/locale/zh_hant_overrides.toml.
WORDS = {
    "賬": "帳",
    "回復您": "回覆您",
    # s2twp turns 回复 before some words into 回複 ("回复本邮件" → "回複本郵件"), and 天后 (after
    # days) into the goddess 天后; for a reply Taiwan writes 回覆, for "after N days" 天後.
    "回複": "回覆",
    "天后": "天後",
    "回復客戶": "回覆客戶",
    "二維碼": "QR碼",
    "平臺": "平台",
    # s2twp's software vocabulary where our sentences mean the everyday word: 问题类型 is a kind
    # of problem (類型), not a data type (型別); 发布 an article is 發布, not a release (釋出);
    # 64 位的代码 is a code (代碼), not source code (程式碼).
    "型別": "類型",
    "釋出": "發布",
    "程式碼": "代碼",
    # 邮箱 (a mail address) is mainland usage; Taiwan and Hong Kong say 電子郵件.
    "郵箱": "電子郵件",
    # Taiwan and Hong Kong quote with corner brackets.
    "“": "「",
    "”": "」",
    "‘": "『",
    "’": "』",
}


@lru_cache(maxsize=1)
def _converter() -> Any:
    # Loading the dictionaries takes ~0.2 s: done on first use, not at import.
    from opencc import OpenCC

    return OpenCC("s2twp")


@lru_cache(maxsize=4096)
def to_hant(text: str) -> str:
    """`text` (Simplified Chinese, or anything else) in Traditional Chinese, Taiwan phrasing.
    Text without Han characters comes back unchanged (placeholders, URLs, English)."""
    if not text or text.isascii():
        return text
    out = _converter().convert(text)
    for simplified, standard in sorted(WORDS.items(), key=lambda kv: -len(kv[0])):
        out = out.replace(simplified, standard)
    return str(out)


def is_hant(language: str | None) -> bool:
    return (language or "").lower() == "zh-hant"


def shown(text: str) -> str:
    """Stored Simplified Chinese as the current page shows it: converted on a zh-hant page."""
    return to_hant(text) if is_hant(get_language()) else text
