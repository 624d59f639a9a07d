"""A folded copy of the parts of a text where people (or their keyboards) disguise a secret.

What the detectors would miss, and what folding makes of it:

* invisible characters inside or between words (zero-width space / non-joiner / joiner, word
  joiner, byte-order mark, soft hyphen, bidi marks): deleted;
* full-width letters and digits ("ａｂａｎｄｏｎ", "１．"), half-width katakana, mathematical
  letters ("𝐚𝐛𝐚𝐧𝐝𝐨𝐧"), circled letters and ligatures: NFKC, i.e. the plain letter;
* Cyrillic, Greek and Latin look-alikes inside Latin words ("аbаndon" with Cyrillic "а"): the
  Latin letter they imitate (``confusables.UNICODE_LOOKALIKES``), in words that hold a Latin
  letter or are made of look-alikes alone (and are no wordlist's word): Russian and Greek words
  keep their letters, so a Russian phrase still reads as Russian.

``scan`` runs the detectors on the original text as always, and in addition on folded copies of
the windows around such characters (``WINDOW_MARGIN`` either side); a finding there is kept when
it holds a folded character and is mapped back to the original, so that the original characters
(not a normalised copy) are cut out. A text without any of these characters
(nearly all of them; ``text.isascii()`` answers at memory speed for most) costs one regex search.
"""

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from .confusables import UNICODE_LOOKALIKES
from .cues import NON_WORD_CLASS
from .findings import Finding
from .wordlists import any_list_word


class FoldableView(Protocol):
    """What folding asks of a long text's ``textview.TextView`` (which imports this module)."""

    def foldable_positions(self) -> list[int]: ...


# Invisible characters people paste (or tools insert) inside words. Variation selectors are left
# out on purpose: every emoji carries one, and none hides a word boundary.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)
_INVISIBLE_CHARS = frozenset(_INVISIBLE)
# Ranges folded by NFKC: full-width digits and letters, half-width katakana, circled letters,
# ligatures, mathematical alphanumerics. (Full-width punctuation is not: Chinese text is full of
# it, and the word-run separators accept it as it is.)
_NFKC_RANGES = (
    (0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A), (0xFF66, 0xFF9F),
    (0x24B6, 0x24E9), (0xFB00, 0xFB06), (0x1D400, 0x1D7FF),
)  # fmt: skip
# How far around a folded character a secret that holds it can reach: 33 SLIP-39 words of up to
# 12 letters with 16-character separators is ~930 characters; a keystore is looked for up to
# 1,024 characters back from its "ciphertext". A finding in the folded copy is kept only when it
# holds a folded character (or follows one closely, a cue such as "ｓｅｅｄ:"), so it lies well
# inside its window and saw all the context it needs.
WINDOW_MARGIN = 2048
_CUE_REACH = 40


@cache
def folding_table() -> dict[int, str]:
    """Code point -> what it folds to ("" for an invisible character): a ``str.translate`` table."""
    table: dict[int, str] = dict.fromkeys(map(ord, _INVISIBLE), "")
    for first, last in _NFKC_RANGES:
        for code in range(first, last + 1):
            folded = unicodedata.normalize("NFKC", chr(code))
            if folded != chr(code):
                table[code] = "".join(UNICODE_LOOKALIKES.get(char, char) for char in folded)
    for char, latin in UNICODE_LOOKALIKES.items():
        table[ord(char)] = latin
    return table


def _class_of(codes: Iterable[int]) -> str:
    """A regex character class body for ``codes``, written as ranges."""
    ordered = sorted(set(codes))
    parts: list[str] = []
    start = previous = ordered[0]
    for code in [*ordered[1:], -1]:
        if code != previous + 1:
            parts.append(
                re.escape(chr(start)) + ("" if previous == start else "-" + re.escape(chr(previous)))
            )
            start = code
        previous = code
    return "".join(parts)


# Every foldable character lies in one of these blocks. Searching for the blocks is ~3 times
# faster in ``re`` than for the exact characters (a class of a dozen ranges against one of
# seventy), and ordinary text (ASCII, Chinese, common punctuation) holds none of them; where a
# block character occurs, the exact ones are picked out in Python.
_FOLDABLE_BLOCKS = re.compile(
    "[\u00ad\u00f8\u0100-\u058f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u24b6-\u24e9"
    "\ufb00-\ufb06\ufeff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uff9f\U0001d400-\U0001d7ff]+"
)


def _foldable_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every run of foldable characters, in order."""
    table = folding_table()
    spans: list[tuple[int, int]] = []
    for match in _FOLDABLE_BLOCKS.finditer(text):
        for position in range(match.start(), match.end()):
            if ord(text[position]) not in table:
                continue
            if spans and spans[-1][1] == position:
                spans[-1] = (spans[-1][0], position + 1)
            else:
                spans.append((position, position + 1))
    return spans


def _matters(text: str, start: int, end: int) -> bool:
    """A run of invisible characters between two non-letters (the joiner inside an emoji
    sequence) hides nothing; any other foldable run may."""
    if text[start:end].strip(_INVISIBLE):
        return True
    return (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum())


def _spans_at(text: str, positions: list[int]) -> list[tuple[int, int]]:
    """The runs of foldable characters among ``positions`` (ascending; a superset)."""
    table = folding_table()
    spans: list[tuple[int, int]] = []
    for position in positions:
        if ord(text[position]) not in table:
            continue  # beyond the BMP, and not a letter that folds (an emoji)
        if spans and spans[-1][1] == position:
            spans[-1] = (spans[-1][0], position + 1)
        else:
            spans.append((position, position + 1))
    return spans


def windows(text: str, view: FoldableView | None = None) -> list[tuple[int, int]]:
    """Stretches of ``text`` (merged, in order) around every foldable character that matters.
    ``view`` (a long text) has them found already."""
    if text.isascii():
        return []
    runs = _foldable_spans(text) if view is None else _spans_at(text, view.foldable_positions())
    spans: list[tuple[int, int]] = []
    for run_start, run_end in runs:
        if not _matters(text, run_start, run_end):
            continue
        start, end = max(0, run_start - WINDOW_MARGIN), min(len(text), run_end + WINDOW_MARGIN)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


@dataclass(frozen=True, slots=True)
class FoldedWindow:
    """``text[offset:offset + length]`` folded, with the way back to the original offsets."""

    text: str
    offset: int
    original_positions: list[int]  # every folded (changed) character, relative to the window
    folded_positions: list[int]  # where its replacement starts in ``text``
    replacement_lengths: list[int]  # 0 for a deleted character

    def _original_char(self, folded: int) -> int:
        k = bisect_right(self.folded_positions, folded) - 1
        if k < 0:
            return folded
        inside = folded - self.folded_positions[k]
        if inside < self.replacement_lengths[k]:
            return self.original_positions[k]
        return self.original_positions[k] + 1 + inside - self.replacement_lengths[k]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original characters that ``text[start:end]`` was folded from."""
        return self.offset + self._original_char(start), self.offset + self._original_char(end - 1) + 1

    def holds_folded(self, start: int, end: int) -> bool:
        """Whether the original span ``start``..``end`` (absolute) holds a folded character."""
        k = bisect_left(self.original_positions, start - self.offset)
        return k < len(self.original_positions) and self.original_positions[k] < end - self.offset


def fold(text: str, start: int, end: int, invisible_as: str = "") -> FoldedWindow:
    """``text[start:end]`` folded; invisible characters become ``invisible_as``. A look-alike
    letter is folded only inside a word that also holds a Latin letter ("vоlcаnо" with
    Cyrillic "о", "а"): in Russian or Greek words it is the language's own letter, and a
    Russian phrase must stay Russian for the Russian wordlist."""
    window = text[start:end]
    table = folding_table()
    latin = _in_latin_words(window)
    pieces: list[str] = []
    originals: list[int] = []
    folded_at: list[int] = []
    lengths: list[int] = []
    size = previous = 0
    for run_start, run_end in _foldable_spans(window):
        pieces.append(window[previous:run_start])
        size += run_start - previous
        previous = run_end
        for position in range(run_start, run_end):
            char = window[position]
            if char in _INVISIBLE_CHARS:
                replacement = invisible_as
            elif char in UNICODE_LOOKALIKES and position not in latin:
                pieces.append(char)
                size += 1
                continue
            else:
                replacement = table[ord(char)]
            originals.append(position)
            folded_at.append(size)
            lengths.append(len(replacement))
            pieces.append(replacement)
            size += len(replacement)
    pieces.append(window[previous:])
    return FoldedWindow("".join(pieces), start, originals, folded_at, lengths)


_LOOKALIKE_CHARS = frozenset(UNICODE_LOOKALIKES)
# Letters, with the combining accents of decomposed text ("n\u0303") and invisible characters.
_WORDISH = re.compile(rf"(?:[^\W\d_]|[\u0300-\u036f{_INVISIBLE}])+")
# A letter of the Latin script: ASCII, with a diacritic (Latin-1, Latin Extended-A/B and
# Additional: "ç", "ş", "ñ", "é", "ı"), full-width, or mathematical. A word that swaps every one
# of its ASCII letters for a look-alike may keep such letters ("аşçı", "αñο", "ρéριτε" with
# Cyrillic "а" and Greek "α", "ο", "ρ", "ι", "τ", "ε"), and no Russian or Greek word holds one.
_LATIN_LETTER = re.compile(
    "[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1effＡ-Ｚａ-ｚ\U0001d400-\U0001d6a3]"
)


_TOKEN_CHAR = re.compile(rf"[^{NON_WORD_CLASS}]|[{_INVISIBLE}]")


def _token_around(window: str, match: re.Match[str]) -> str:
    """The tokenizer's whole word around ``match`` (invisible characters deleted, lower case).

    Folding splits words on letters and the tokenizer does not, so a list word broken by an
    invisible character or a symbol (the Russian list's "сно\ufffd\ufffdа") is judged whole.
    """
    start, end = match.start(), match.end()
    while start > 0 and _TOKEN_CHAR.fullmatch(window[start - 1]):
        start -= 1
    while end < len(window) and _TOKEN_CHAR.fullmatch(window[end]):
        end += 1
    return window[start:end].translate(dict.fromkeys(map(ord, _INVISIBLE))).lower()


def _in_latin_words(window: str) -> set[int]:
    """Positions of the letters of every word whose look-alikes imitate Latin letters: the word
    also holds a Latin letter (with or without a diacritic), or is made of look-alikes alone ("τιρο" for "tipo") and is not
    itself a word of a wordlist (a Russian phrase's "сосна")."""
    positions: set[int] = set()
    if _LOOKALIKE_CHARS.isdisjoint(window):
        return positions
    for match in _WORDISH.finditer(window):
        word = match.group()
        if _LOOKALIKE_CHARS.isdisjoint(word):
            continue
        if not _LATIN_LETTER.search(word):
            letters = "".join(char for char in word if char.isalpha())
            if not _LOOKALIKE_CHARS.issuperset(letters) or _token_around(window, match) in any_list_word():
                continue
        positions.update(range(match.start(), match.end()))
    return positions


def folded_findings(
    text: str, detect: Callable[[str], list[Finding]], view: FoldableView | None = None
) -> Iterator[Finding]:
    """Findings of ``detect`` in the folded windows of ``text`` that hold a folded character,
    with offsets into ``text``.

    An invisible character may sit inside a word ("aban\u200bdon") or be the only thing between
    two ("ａｂａｎｄｏｎ\u200bａｂｉｌｉｔｙ" reads as two words once the letters are folded):
    a window that holds one is folded both ways, deleted and read as a space.
    """
    for start, end in windows(text, view):
        window_text = text[start:end]
        ways = [""] if _INVISIBLE_CHARS.isdisjoint(window_text) else ["", " "]
        for invisible_as in ways:
            window = fold(text, start, end, invisible_as)
            for finding in detect(window.text):
                original_start, original_end = window.original_span(finding.start, finding.end)
                if window.holds_folded(original_start - _CUE_REACH, original_end):
                    detail = f"{finding.detail} (disguised: look-alike, full-width or invisible characters)"
                    yield Finding(finding.kind, original_start, original_end, detail)
