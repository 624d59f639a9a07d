"""Wordlists the shield matches against, loaded once on first use.

BIP39 lists come from the ``mnemonic`` package (every language it ships); the SLIP-39 list is
shipped in ``data/`` (copied from the SLIP-39 reference implementation, MIT). The files store
some languages decomposed (NFKD), while people type composed text, so every word is indexed
under each spelling a person is likely to produce: composed, decomposed, and for Latin-script
languages without accents (people on an English keyboard drop them).
"""

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mnemonic import Mnemonic

_DATA = Path(__file__).with_name("data")
SLIP39 = "slip39"
CHINESE_LANGUAGES = ("chinese_simplified", "chinese_traditional")
_ACCENT_FREE_LANGUAGES = frozenset({"spanish", "french", "italian", "portuguese", "czech", "turkish"})


@dataclass(frozen=True, slots=True)
class Wordlist:
    language: str  # a mnemonic language name, or "slip39"
    index: dict[str, int]  # every accepted lower-case spelling -> position in the list

    @property
    def is_slip39(self) -> bool:
        return self.language == SLIP39

    @property
    def is_single_character(self) -> bool:
        return self.language in CHINESE_LANGUAGES


def _strip_accents(word: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", word) if not unicodedata.combining(char))


def _build(language: str, words: list[str]) -> Wordlist:
    index: dict[str, int] = {}
    ambiguous: set[str] = set()
    for position, word in enumerate(words):
        spellings = {unicodedata.normalize(form, word).lower() for form in ("NFC", "NFKD")}
        if language in _ACCENT_FREE_LANGUAGES:
            spellings.add(_strip_accents(word).lower())
        if language == "turkish":
            # Upper-case "NISPET" lower-cases to "nispet", not "nıspet".
            spellings |= {spelling.replace("ı", "i") for spelling in spellings}
        for spelling in spellings:
            if index.get(spelling, position) != position:
                ambiguous.add(spelling)
            index[spelling] = position
    for spelling in ambiguous:
        del index[spelling]
    return Wordlist(language, index)


@cache
def bip39_languages() -> tuple[str, ...]:
    return tuple(sorted(Mnemonic.list_languages()))


@cache
def all_wordlists() -> tuple[Wordlist, ...]:
    lists = [_build(language, Mnemonic(language).wordlist) for language in bip39_languages()]
    slip39_words = (_DATA / "slip39_wordlist.txt").read_text(encoding="utf-8").split()
    lists.append(_build(SLIP39, slip39_words))
    return tuple(lists)


@cache
def chinese_wordlists() -> tuple[Wordlist, ...]:
    return tuple(wordlist for wordlist in all_wordlists() if wordlist.is_single_character)


@cache
def any_list_word() -> frozenset[str]:
    """Every spelling of every word of every list: the cheap first test for each token."""
    return frozenset(spelling for wordlist in all_wordlists() for spelling in wordlist.index)


@cache
def chinese_wordlist_chars() -> frozenset[str]:
    return frozenset(char for wordlist in chinese_wordlists() for char in wordlist.index)


@cache
def common_chinese_bigrams() -> frozenset[str]:
    """Common two-character Chinese words (see ``data/make_zh_bigrams.py`` for why and how).

    Reduplications ("的的", "歇歇", "看看") are left out: a phrase of low entropy repeats one
    character ("的的的的的的的的的的的在" is the all-zero vector) and must not read as ordinary
    Chinese for it, while ordinary Chinese has plenty of other common words.
    """
    text = (_DATA / "zh_common_bigrams.txt").read_text(encoding="utf-8")
    pairs = (line[i : i + 2] for line in text.split() for i in range(0, len(line), 2))
    return frozenset(pair for pair in pairs if pair[0] != pair[1])
