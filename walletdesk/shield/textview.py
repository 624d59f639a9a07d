"""A per-character view of a long text, computed with numpy, that tells the detectors where
they need not look.

Why: on a long text (a pasted chat log, a mail with its history) the detectors' regexes and
per-token Python work cost ~130 ns a character, nearly all of it spent proving that ordinary
prose holds no secret. One table lookup per character, done in C over the whole text, gives
the same proof for most of the text at a few ns a character.

Every question answered here is a *superset* filter: it lets through every place where the exact
detectors could find something (and, rarely, a few where they cannot), and those places are then
judged by the very code that judges a short text. So the findings are identical;
``tests/shield/test_scan_long_text.py`` compares the two paths on generated text.

Short texts do not use it: numpy's fixed cost per call (a few µs, some hundred calls, ~0.3 ms
in all) would outweigh what it saves on a single chat message.
"""

import re
import string
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import numpy.typing as npt

from .cues import CUE_CHARACTERS, NON_WORD_CLASS, SENTENCE_END_TOKENS, SPLIT_PIECE_SEED
from .folding import folding_table
from .wordlists import any_list_word, chinese_wordlist_chars, common_chinese_bigrams

# Below this many characters ``scan`` keeps to the plain detectors. Measured on mixed support
# text: the view costs ~0.3 ms whatever the length, and up to one word-run chunk (8,192
# characters) it saves little; at 12,000 characters it is 1.4x faster, at 32,000 3x.
FAST_PATH_MIN_CHARS = 10_000

MAX_LIST_WORD = 12  # the longest spelling in any wordlist (asserted when the tables are built)

# One 32-bit word of properties per UTF-16 code unit, so a single gather classifies the text.
# Bits 0-11: the character's index in the alphabet of all wordlists, taken after lower-casing
# (1..N for the Chinese list characters, then every other letter that occurs in a list word,
# _NOT_IN_ALPHABET for anything else).
_ALPHA_MASK = 0xFFF
_NOT_IN_ALPHABET = 0xFFF
_TOKEN_CHAR = 1 << 12  # its lower case is a token character of the word-run tokenizer
_SENTENCE_END = 1 << 13  # its lower case is one of .!?。！？
_DIGIT = 1 << 14  # an ASCII digit
_ALNUM = 1 << 15  # an ASCII letter or digit (the key detector works on the original text)
_SPACE = 1 << 16  # a space, tab or ideographic space (a separator in a Chinese grid copy)
_NEWLINE = 1 << 17
_CUE_CHAR = 1 << 18  # one of cues.CUE_CHARACTERS: every Chinese phrase cue holds one
_DOT = 1 << 19  # "." (glued between two token characters it is a separator, not a sentence end)
_FOLDABLE = 1 << 20  # folding.py folds it (U+FFFF, standing for every character beyond the BMP: may)
_SENTENCE_END_TOKENS_TEXT = "".join(sorted(SENTENCE_END_TOKENS))

_SHAPE_BITS = 22
_SHAPE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True)
class _Tables:
    props: npt.NDArray[np.uint32]  # 65,536 entries, one per UTF-16 code unit
    chinese_count: int  # the Chinese list characters are alphabet indices 1..chinese_count
    common_pairs: npt.NDArray[np.bool_]  # [first * chinese_count + second], 0-based indices
    word_shapes: npt.NDArray[np.bool_]  # 2**_SHAPE_BITS buckets of list-word shapes
    # Characters whose lower case is not one BMP character of its own ("İ" -> "i̇") or depends
    # on the neighbours (final sigma). With one of them in the text the word-run pass cannot
    # assume that each character lowers on its own, and keeps to its plain form.
    lowering_specials: str


def _shape_bucket(
    length: npt.NDArray[np.uint64], total: npt.NDArray[np.uint64], weighted: npt.NDArray[np.uint64]
) -> npt.NDArray[np.uint64]:
    """The table bucket of a word's shape: its length, the sum of its alphabet indices and their
    sum weighted by position. Equal strings have equal shapes; unequal ones rarely share a
    bucket, and when they do the word-run pass only looks closer than it had to."""
    key = length | (total << np.uint64(4)) | (weighted << np.uint64(20))
    return (key * _SHAPE_MULTIPLIER) >> np.uint64(64 - _SHAPE_BITS)


def _units(text: str) -> npt.NDArray[np.uint16]:
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


@cache
def tables() -> _Tables:
    chinese = sorted(chinese_wordlist_chars())
    others = sorted({char for word in any_list_word() for char in word} - set(chinese))
    alphabet = [*chinese, *others]
    assert len(alphabet) < _NOT_IN_ALPHABET and all(char <= "\uffff" for char in alphabet)
    alpha_of = np.full(0x10000, _NOT_IN_ALPHABET, dtype=np.uint32)
    alpha_of[_units("".join(alphabet))] = np.arange(1, len(alphabet) + 1, dtype=np.uint32)

    chars = list(map(chr, range(0x10000)))
    specials = [char for char in chars if len(low := char.lower()) != 1 or char == "Σ" or ord(low) > 0xFFFF]
    # Each character as the tokenizer sees it: lower-cased (a special one stands for itself).
    special_set = set(specials)
    seen = "".join(char if char in special_set else char.lower() for char in chars)
    codes = np.arange(0x10000)
    seen_codes = _units(seen)
    assert len(seen_codes) == 0x10000
    props = alpha_of[seen_codes]
    token = np.ones(0x10000, dtype=np.bool_)
    token[[match.start() for match in re.finditer(f"[{NON_WORD_CLASS}]", seen)]] = False
    bits = [
        (token, _TOKEN_CHAR),
        (np.isin(seen_codes, _units(_SENTENCE_END_TOKENS_TEXT)), _SENTENCE_END),
        ((seen_codes >= ord("0")) & (seen_codes <= ord("9")), _DIGIT),
        (np.isin(codes, _units(string.ascii_letters + string.digits)), _ALNUM),
        (np.isin(codes, _units(" \t\u3000")), _SPACE),
        (codes == ord("\n"), _NEWLINE),
        (codes == ord("."), _DOT),
        (np.isin(codes, [code for code in folding_table() if code <= 0xFFFF] + [0xFFFF]), _FOLDABLE),
        (np.isin(codes, _units("".join(CUE_CHARACTERS))), _CUE_CHAR),
    ]
    for mask, bit in bits:
        props[mask] |= np.uint32(bit)
    # U+FFFF stands for every character beyond the BMP (see _code_units): a token character, in
    # no alphabet, none of the rest but "may fold" (folding.windows then looks at the character
    # itself). It is one itself, so the stand-in changes no answer.
    assert props[0xFFFF] == _TOKEN_CHAR | _NOT_IN_ALPHABET | _FOLDABLE

    count = len(chinese)
    pairs = alpha_of[_units("".join(common_chinese_bigrams())).reshape(-1, 2)].astype(np.intp)
    pairs = pairs[(pairs <= count).all(axis=1)] - 1
    common = np.zeros(count * count, dtype=np.bool_)
    common[pairs[:, 0] * count + pairs[:, 1]] = True

    words = sorted(any_list_word())
    lengths = np.array([len(word) for word in words])
    assert lengths.max() <= MAX_LIST_WORD
    letters = alpha_of[_units("".join(words))].astype(np.uint64)
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    positions = (np.arange(len(letters)) - np.repeat(firsts, lengths)).astype(np.uint64)
    shapes = np.zeros(1 << _SHAPE_BITS, dtype=np.bool_)
    shapes[
        _shape_bucket(
            lengths.astype(np.uint64),
            np.add.reduceat(letters, firsts),
            np.add.reduceat(letters * positions, firsts),
        )
    ] = True
    return _Tables(props, count, common, shapes, "".join(specials))


def _code_units(text: str) -> tuple[npt.NDArray[np.uint16], bool]:
    """One 16-bit unit per character (beyond the BMP: U+FFFF, see the tables), and whether every
    character of the text lowers to one character independently of its neighbours."""
    try:
        raw = text.encode("utf-16-le")
    except UnicodeEncodeError:  # a lone surrogate
        raw = b""
    if len(raw) == 2 * len(text):
        return np.frombuffer(raw, dtype=np.uint16), True
    wide = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    beyond = np.unique(wide[wide > 0xFFFF])
    local = all(chr(code).lower() == chr(code) for code in beyond.tolist())
    return np.minimum(wide, 0xFFFF).astype(np.uint16), local


@dataclass(frozen=True, slots=True)
class WordTokens:
    """The word-run tokenizer's tokens over the whole lowered text (same tokens as
    ``phrases._TOKEN.findall(text.lower())``), with one flag each: 2 for a sentence end, 1 when
    the token *may* be a list word (every list word is flagged, a rare other token too), else 0."""

    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]
    flags: bytes


@dataclass(frozen=True, slots=True)
class ChineseRuns:
    """Maximal runs of Chinese list characters."""

    starts: npt.NDArray[np.intp]
    ends: npt.NDArray[np.intp]
    lengths: npt.NDArray[np.intp]
    common_pairs: npt.NDArray[np.intp]  # common two-character words inside each run


# Characters per block of the pass below. The pass works block by block so that its dozens of
# temporary arrays stay small: in cache, and reused by the allocator instead of being faulted
# in afresh as text-sized arrays are (that alone cost more than the arithmetic).
_BLOCK = 1 << 17
_BLOCK_CUT_LOOKAHEAD = 512
# A block ends just after a character that is neither a token character, an ASCII letter or
# digit nor a sentence end, so no token, run of list characters or run of letters and digits
# crosses a block boundary, the character before a block is never a digit, and a sentence end
# has both its neighbours in its block: each block can be classified on its own.
_UNCUTTABLE = _TOKEN_CHAR | _ALNUM | _SENTENCE_END


class TextView:
    """Everything the detectors ask of a long text, found in one pass over it."""

    def __init__(self, text: str) -> None:
        self._tables = tables()
        self._units, lowers_locally = _code_units(text)
        self._length = len(text)
        if lowers_locally and any(char in text for char in self._tables.lowering_specials):
            lowers_locally = False
        self._want_words = lowers_locally
        self._word_parts: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], bytes]] = []
        self._run_parts: list[tuple[npt.NDArray[np.intp], ...]] = []
        self._alnum_parts: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        self._newline_parts: list[npt.NDArray[np.intp]] = []
        self._cue_parts: list[npt.NDArray[np.intp]] = []
        self._foldable_parts: list[npt.NDArray[np.intp]] = []
        start = 0
        while start < self._length:
            props, end = self._block_from(start)
            self._classify_block(props, start)
            start = end

    def _block_from(self, start: int) -> tuple[npt.NDArray[np.uint32], int]:
        """The properties of the block that begins at ``start``, and where it ends."""
        target = start + _BLOCK
        if target >= self._length:
            return self._tables.props[self._units[start:]], self._length
        lookahead = _BLOCK_CUT_LOOKAHEAD
        while True:
            if target + lookahead >= self._length:
                lookahead = self._length - target  # the text ends first: the last block
            props = self._tables.props[self._units[start : target + lookahead]]
            cuts = np.flatnonzero((props[target - start :] & np.uint32(_UNCUTTABLE)) == 0)
            if len(cuts):
                end = target + int(cuts[0]) + 1
                return props[: end - start], end
            if target + lookahead >= self._length:
                return props, self._length
            lookahead *= 4  # a very long word, key or run of Chinese: look further

    def _classify_block(self, props: npt.NDArray[np.uint32], offset: int) -> None:
        alpha = props & np.uint32(_ALPHA_MASK)
        if self._want_words:
            self._word_parts.append(self._word_tokens_of(props, alpha, offset))
        self._run_parts.append(self._chinese_runs_of(alpha, offset))
        alnum = ((props & np.uint32(_ALNUM)) != 0).view(np.int8)
        # Runs open and close alternately: every other change is a start.
        changes = np.flatnonzero(np.diff(alnum, prepend=np.int8(0), append=np.int8(0)))
        starts, ends = changes[0::2], changes[1::2]
        long = ends - starts >= SPLIT_PIECE_SEED
        if long.any():
            self._alnum_parts.append((starts[long] + offset, ends[long] + offset))
        # The rare characters asked about by position, found in one pass and then told apart.
        marks = np.flatnonzero((props & np.uint32(_NEWLINE | _CUE_CHAR | _FOLDABLE)) != 0)
        if len(marks):
            kinds = props[marks]
            newline = (kinds & np.uint32(_NEWLINE)) != 0
            foldable = (kinds & np.uint32(_FOLDABLE)) != 0
            self._newline_parts.append(marks[newline] + offset)
            self._cue_parts.append(marks[~newline & ~foldable] + offset)
            self._foldable_parts.append(marks[foldable] + offset)

    def _word_tokens_of(
        self, props: npt.NDArray[np.uint32], alpha: npt.NDArray[np.uint32], offset: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], bytes]:
        token = (props & np.uint32(_TOKEN_CHAR)) != 0
        # A sentence end is a token of its own unless it follows an ASCII digit ("1." numbering).
        end = (props & np.uint32(_SENTENCE_END)) != 0
        end[1:] &= (props[:-1] & np.uint32(_DIGIT)) == 0
        # ... nor a dot glued between two token characters ("abandon.ability").
        # (Looked at only where the few dots are, not over the whole block.)
        dots = np.flatnonzero((props[1:-1] & np.uint32(_DOT)) != 0) + 1
        if len(dots):
            end[dots[token[dots - 1] & token[dots + 1]]] = False
        begins = token.copy()
        begins[1:] &= ~token[:-1]
        begins |= end
        finishes = token.copy()
        finishes[:-1] &= ~token[1:]
        finishes |= end
        edges = np.flatnonzero(begins | finishes)
        starts = edges[begins[edges]]
        ends = edges[finishes[edges]] + 1
        flags = np.zeros(len(starts), dtype=np.uint8)
        if len(starts):
            flags[self._maybe_list_words(alpha, starts, ends)] = 1
            flags[end[starts]] = 2
        return starts + offset, ends + offset, flags.tobytes()

    def _maybe_list_words(
        self, alpha: npt.NDArray[np.uint32], starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.intp]:
        """Token numbers whose shape (see ``_shape_bucket``) is that of some list word."""
        n = len(alpha)
        # Prefix sums of the indices and of index * offset, in wrapping 32-bit arithmetic: every
        # per-token difference is far below 2**32, so it comes out exact.
        total = np.zeros(n + 1, dtype=np.uint32)
        np.cumsum(alpha, dtype=np.uint32, out=total[1:])
        weighted = np.zeros(n + 1, dtype=np.uint32)
        np.cumsum(alpha * np.arange(n, dtype=np.uint32), dtype=np.uint32, out=weighted[1:])
        short = np.flatnonzero(ends - starts <= MAX_LIST_WORD)
        first, stop = starts[short], ends[short]
        token_total = total[stop] - total[first]
        token_weighted = weighted[stop] - weighted[first] - first.astype(np.uint32) * token_total
        buckets = _shape_bucket(
            (stop - first).astype(np.uint64), token_total.astype(np.uint64), token_weighted.astype(np.uint64)
        )
        return short[self._tables.word_shapes[buckets]]

    def _chinese_runs_of(
        self, alpha: npt.NDArray[np.uint32], offset: int
    ) -> tuple[npt.NDArray[np.intp], ...]:
        count = self._tables.chinese_count
        positions = np.flatnonzero(alpha <= count)
        if not len(positions):
            empty = np.zeros(0, dtype=np.intp)
            return empty, empty, empty, empty
        steps = np.diff(positions)
        breaks = np.flatnonzero(steps != 1)
        first = np.concatenate(([0], breaks + 1))
        last = np.concatenate((breaks, [len(positions) - 1]))
        dense = alpha[positions].astype(np.intp) - 1
        common = self._tables.common_pairs[dense[:-1] * count + dense[1:]] & (steps == 1)
        common_before = np.concatenate(([0], np.cumsum(common, dtype=np.intp)))
        return (
            positions[first] + offset,
            positions[last] + 1 + offset,
            last - first + 1,
            common_before[last] - common_before[first],
        )

    def _props_at(self, positions: npt.NDArray[np.intp]) -> npt.NDArray[np.uint32]:
        """Properties of the characters at ``positions``; 0 (nothing) past the end."""
        inside = positions < self._length
        result = np.zeros(len(positions), dtype=np.uint32)
        result[inside] = self._tables.props[self._units[positions[inside]]]
        return result

    # --- what the detectors ask ---------------------------------------------------------------

    def word_tokens(self) -> WordTokens | None:
        """None when lower-casing is not character by character (see ``lowering_specials``)."""
        if not self._want_words:
            return None
        if not self._word_parts:
            empty = np.zeros(0, dtype=np.intp)
            return WordTokens(empty, empty, b"")
        starts, ends, flags = zip(*self._word_parts, strict=True)
        return WordTokens(np.concatenate(starts), np.concatenate(ends), b"".join(flags))

    @cached_property
    def chinese_runs(self) -> ChineseRuns:
        starts, ends, lengths, common = (np.concatenate(part) for part in zip(*self._run_parts, strict=True))
        return ChineseRuns(starts, ends, lengths, common)

    def chinese_zones(
        self, min_run: int, max_run: int, max_common: int, group_sizes: frozenset[int]
    ) -> list[tuple[int, int]]:
        """Stretches of list characters, joined by single spaces, that could hold a phrase.

        A zone is runs of list characters separated by exactly one space, tab or ideographic
        space: every standalone run the Chinese pass judges lies inside one, and starts and ends
        at run boundaries. It is a phrase only if it holds a run of ``min_run``..``max_run``
        characters with at most ``max_common`` common words, or two neighbouring runs of one
        size in ``group_sizes`` (a grid copy, "的一是 在不了 …"). Ordinary Chinese has neither.
        """
        runs = self.chinese_runs
        if not len(runs.starts):
            return []
        lengths = runs.lengths
        candidate = (lengths >= min_run) & (lengths <= max_run) & (runs.common_pairs <= max_common)
        joined = (runs.starts[1:] - runs.ends[:-1] == 1) & (
            (self._props_at(runs.ends[:-1]) & np.uint32(_SPACE)) != 0
        )
        grid = joined & (lengths[:-1] == lengths[1:]) & np.isin(lengths[:-1], sorted(group_sizes))
        candidate[:-1] |= grid
        candidate[1:] |= grid
        if not candidate.any():
            return []
        zone = np.concatenate(([0], np.cumsum(~joined)))
        zone_first = np.flatnonzero(np.concatenate(([True], ~joined)))
        zone_last = np.concatenate((zone_first[1:] - 1, [len(lengths) - 1]))
        chosen = np.unique(zone[candidate])
        return list(
            zip(runs.starts[zone_first[chosen]].tolist(), runs.ends[zone_last[chosen]].tolist(), strict=True)
        )

    def grid_block_starts(self, max_row: int) -> list[int]:
        """New lines that may open a grid copy ("\\n的一是\\n在不了…"): those followed by a space,
        or by a run of at most ``max_row`` list characters that a space or new line ends."""
        if not self._newline_parts:
            return []
        newlines = np.concatenate(self._newline_parts)
        following = self._props_at(newlines + 1)
        possible = (following & np.uint32(_SPACE)) != 0
        runs = self.chinese_runs
        if len(runs.starts) and len(newlines):
            index = np.minimum(np.searchsorted(runs.starts, newlines + 1), len(runs.starts) - 1)
            short_row = (runs.starts[index] == newlines + 1) & (runs.lengths[index] <= max_row)
            row_end = (self._props_at(runs.ends[index]) & np.uint32(_SPACE | _NEWLINE)) != 0
            possible |= short_row & row_end
        return newlines[possible].tolist()

    def foldable_positions(self) -> list[int]:
        """Every character ``folding`` folds, and every one beyond the BMP (which may fold)."""
        return np.concatenate(self._foldable_parts).tolist() if self._foldable_parts else []

    def cue_character_positions(self) -> list[int]:
        return np.concatenate(self._cue_parts).tolist() if self._cue_parts else []

    def alnum_runs(self, min_run: int) -> list[tuple[int, int]]:
        """(start, end) of every maximal run of ``min_run``+ ASCII letters and digits
        (``min_run`` >= ``cues.SPLIT_PIECE_SEED``)."""
        assert min_run >= SPLIT_PIECE_SEED
        if not self._alnum_parts:
            return []
        starts, ends = (np.concatenate(part) for part in zip(*self._alnum_parts, strict=True))
        long = ends - starts >= min_run
        starts, ends = starts[long], ends[long]
        return list(zip(starts.tolist(), ends.tolist(), strict=True))
