"""Recovery phrases (BIP39, every language) and SLIP-39 shares in free text.

Two detectors:

* Word runs. The text is split into letter tokens once (``re.split``, in C) and each token is
  looked up in the union of all wordlists (``map`` over a frozenset, also in C). The hit flags
  become a byte string, and a bytes regex finds runs of 11+ hits; only those few regions get
  Python-level attention. A region counts when 12+ tokens of ONE wordlist follow each other,
  separated only by phrase-like separators (spaces, new lines, commas, dashes, numbering such
  as ``1.`` ``1、`` ``①`` ``1)``), with at most one non-list token (a typo) per 12 words. This
  covers every alphabetic language, Japanese, Korean, and Chinese written one character per
  token ("的 一 是 …", "1.的 2.一 …").

* Concatenated Chinese ("的一是在不了有和人这中大"). The Chinese lists are the 2,048 most
  common characters, so ordinary Chinese is mostly made of them; what differs is that a real
  phrase is random. A run of 12-25 wordlist characters counts only when it contains at most
  one common two-character word (ordinary text is full of them) AND either carries a valid
  BIP39 checksum at a phrase length, or follows a phrase cue such as "助记词".

On a long text (``textview.FAST_PATH_MIN_CHARS`` characters or more) both detectors also get a
``TextView``: one numpy pass that classifies every character. Each detector then runs the exact
code above only where the view cannot rule a phrase out (the word-run chunks that a run of
possible list words reaches, the Chinese zones that hold a phrase-like run, the new lines and
cues that could open a grid copy or a glued phrase), with the same findings as without it.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, chain, compress, count, islice, pairwise, repeat, takewhile
from operator import add
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .checksums import BIP39_PHRASE_LENGTHS, SLIP39_SHARE_LENGTHS, bip39_checksum_ok, slip39_checksum_ok
from .cues import CUE_CHARACTERS, NON_WORD_CLASS, SENTENCE_END_TOKENS
from .findings import Finding, SecretKind
from .wordlists import (
    Wordlist,
    all_wordlists,
    any_list_word,
    chinese_wordlist_chars,
    chinese_wordlists,
    common_chinese_bigrams,
)

if TYPE_CHECKING:
    from .textview import TextView, WordTokens

MIN_PHRASE_WORDS = 12
# A token is a run of anything but `cues.NON_WORD_CLASS`. A sentence end (one of
# `cues.SENTENCE_END_TOKENS`, not "1." numbering) is a token of its own that no run may cross,
# so prose made of list words falls apart into sentences before any Python-level work. A dot glued
# between two letters ("abandon.ability.able…", "e.g", "example.com") ends no sentence: it
# joins words, and is a separator like a comma.
_GLUED_DOT = rf"(?<=[^{NON_WORD_CLASS}])\.[^{NON_WORD_CLASS}]"
_SENTENCE_END_SOURCE = rf"(?<![0-9])(?!{_GLUED_DOT})[.!?。！？]"
# The same as ``[^NW]+|(?<![0-9])[.!?。！？]``, but opening with a single character class (any
# token character or sentence end), which lets the regex engine skip separators in its C search
# loop instead of trying both alternatives at each; ~10% faster on the text of every scan.
_NON_WORD_BUT_SENTENCE_END_CLASS = (
    r"\s\x00-\x20\x22-\x2d\x2f-\x3e\x40\x5b-\x60\x7b-\x7f\u00a0-\u00bf\u00d7\u00f7\u2000-\u206f"
    r"\u2460-\u24ff\u2776-\u2793\u3000\u3001\u3003-\u303f\u3251-\u325f\u32b1-\u32bf\ufeff\uff00\uff02-\uff1e"
    r"\uff20\uff3b-\uff40\uff5b-\uff65"
)
_TOKEN = re.compile(
    rf"[^{_NON_WORD_BUT_SENTENCE_END_CLASS}]"
    # a word, or a sentence end not after a digit nor glued between two letters
    rf"(?:(?<![.!?。！？])[^{NON_WORD_CLASS}]*|(?<![0-9].)(?!(?<=[^{NON_WORD_CLASS}]\.)[^{NON_WORD_CLASS}]))"
)
_TOKEN_SPLIT = re.compile(rf"([^{NON_WORD_CLASS}]+|{_SENTENCE_END_SOURCE})")
_LIST_WORD, _SENTENCE_END = 1, 2  # token flags; anything else is 0
# 11+ list hits with at most single misses between them: the only regions worth a closer look.
_CANDIDATE_RUN = re.compile(rb"\x01(?:\x00?\x01){10,}")
# What may stand between two words of a phrase: whitespace, list punctuation (also full-width)
# and numbering, and invisible characters (a zero-width space alone between two words).
_PHRASE_SEPARATOR = re.compile(
    r"[\s,，、;；:：.。·•\-–—_|/\\()（）\[\]【】<>《》\"'“”‘’`*#+=~0-9\u2460-\u24ff\u2776-\u2793"
    r"\u3251-\u325f\u32b1-\u32bf\u00ad\u200b-\u200f\u2060-\u2064\ufeff．／＿｜－＼＝＋＊＃～]{1,16}"
)
_MIN_TYPO_LENGTH = 3  # shorter tokens are words like "is", "my", not a mistyped list word
_MAX_TYPO_LENGTH = 12
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"

_HAN_WHITESPACE = re.compile(r"[ \t\u3000\r\n]")
_CUES = (  # each holds one of cues.CUE_CHARACTERS
    "助记词", "助記詞", "记忆词", "記憶詞", "恢复短语", "恢復短語", "种子短语", "種子短語",
    "备份短语", "備份短語", "私钥", "私鑰", "密钥", "密鑰",
)  # fmt: skip
_CUE_THEN_HAN = re.compile(rf"(?:{'|'.join(_CUES)})(?:就是|是|为|為|如下是|如下)?([{_HAN}]{{12,}})")
_PHRASE_CUE_BEFORE = re.compile(
    r"助记|助記|记忆词|記憶詞|短语|短語|种子|種子|备份|備份|私钥|私鑰|密钥|密鑰|"
    # "my words are: …", "the 12 words": how people announce a phrase when they do not
    # know its name; a 12+ run of list words right after it is not prose.
    r"mnemonic|seed|recovery|phrase|secret|backup|words",
    re.IGNORECASE,
)
_CUE_LOOKBEHIND = 40
_MAX_CONCATENATED = 25
_GRID_GROUP_SIZES = frozenset({1, 2, 3, 4, 6})
_MAX_GRID_RUN = _MAX_CONCATENATED + 11  # 24 characters in groups: up to 11 single spaces


@dataclass(frozen=True, slots=True)
class _Segment:
    wordlist: Wordlist
    first: int  # token number of the first word
    last: int  # token number of the last word (inclusive)
    words: int
    typos: int
    evidence: str  # why this run is a phrase, e.g. "valid checksum", "numbered"
    checksum_ok: bool

    @property
    def rank(self) -> tuple[bool, int, bool]:
        return (self.checksum_ok, self.words, not self.wordlist.is_slip39)


@dataclass(frozen=True, slots=True)
class _Region:
    """A candidate region of the token stream, with what the judges need to see of it."""

    text: str
    parts: list[str]  # re.split output: separator, token, separator, token, ...
    ends: list[int]  # running end offset of each part
    first: int  # first token number of the region
    lowered: list[str]
    separators_ok: list[bool]  # separator after token k (relative) is phrase-like

    def token(self, k: int) -> str:
        return self.parts[2 * (self.first + k) + 1]

    def separator_after(self, k: int) -> str:
        return self.parts[2 * (self.first + k) + 2]

    def start_of(self, k: int) -> int:
        return self.ends[2 * (self.first + k)]


def find_phrases(text: str, view: "TextView | None" = None) -> Iterator[Finding]:
    """``view`` (long texts only) lets both detectors skip what cannot hold a phrase; the
    findings are the same with or without it."""
    yield from _find_word_runs(text, view)
    yield from _find_concatenated_chinese(text, view)


_SENTENCE_END_CHAR = re.compile(r"[.。!?！？]")
_DIGIT = re.compile(r"\d|[\u2460-\u24ff\u2776-\u2793\u3251-\u325f\u32b1-\u32bf]")
_CHUNK = 8192
_CHUNK_OVERLAP = 768  # > 24 words of 11 letters, each with a 16-character separator
_BLOCK = 1024  # characters per tokenizing block (see _find_word_runs_in)
_WHITESPACE = re.compile(r"\s")
_CHECKSUM_SLACK = 2
_STRONG_CHECKSUM_WORDS = 18  # 6+ checksum bits: a chance pass is rare enough to stand alone  # words of the surrounding sentence a checksum-valid phrase may absorb


# --- word runs -----------------------------------------------------------------------------


def _find_word_runs(text: str, view: "TextView | None" = None) -> Iterator[Finding]:
    """Scan in overlapping chunks, so that a candidate region (ordinary prose made of list
    words is one every few KB) costs a re-split of its chunk, not of the whole text."""
    if len(text) <= _CHUNK:
        yield from _find_word_runs_in(text)
        return
    tokens = view.word_tokens() if view is not None else None
    if tokens is not None:
        yield from _find_word_runs_with(text, tokens)
        return
    for start, end in _chunks(len(text)):
        for finding in _find_word_runs_in(text[start:end]):
            yield Finding(finding.kind, finding.start + start, finding.end + start, finding.detail)


def _chunks(length: int) -> Iterator[tuple[int, int]]:
    start = 0
    while True:
        end = min(length, start + _CHUNK)
        yield start, end
        if end == length:
            return
        # Any phrase shorter than the overlap that crosses ``end`` lies whole in the next chunk.
        start = end - _CHUNK_OVERLAP


def _find_word_runs_in(text: str) -> Iterator[Finding]:
    # Lower-casing the whole text once is far cheaper than per token.
    lowered = text.lower()
    if len(lowered) != len(text):
        yield from _find_word_runs_in_resized(text, lowered)
        return
    # Every character lowered to exactly one character, and lower-casing never moves a token
    # boundary or changes how a separator reads (tests check every code point), so the lowered
    # text splits exactly like the original and its offsets are the original's.
    #
    # The text is tokenized in blocks that end just after a whitespace character. No token
    # holds whitespace, and the tokenizer looks back at most two characters (is a sentence end
    # after a digit?), which whitespace answers the same way in a block or in the whole text, so
    # the blocks' tokens, joined, are exactly the whole text's. Knowing how many tokens each
    # block holds lets a candidate region re-split only the blocks around it: ordinary English
    # offers one every few KB, and re-splitting its whole chunk used to cost a quarter of the scan.
    flag_of = _token_flags().get
    bounds = _block_bounds(lowered)
    block_flags = [
        bytes(map(flag_of, _TOKEN.findall(lowered, start, end), repeat(0))) for start, end in pairwise(bounds)
    ]
    flags = b"".join(block_flags)
    if not _CANDIDATE_RUN.search(flags):
        return
    tokens_before = list(accumulate(map(len, block_flags), initial=0))
    runs = [match.span() for match in _CANDIDATE_RUN.finditer(flags)]
    yield from _judge_runs(text, lowered, bounds, tokens_before, runs)


def _judge_runs(
    text: str, lowered: str | None, bounds: list[int], tokens_before: list[int], runs: list[tuple[int, int]]
) -> Iterator[Finding]:
    """Findings in the candidate ``runs`` (token numbers) of ``text``, tokenized in the blocks
    between ``bounds``; ``tokens_before[k]`` is the number of tokens before block k.
    ``lowered`` is ``text.lower()``, or None when each character lowers on its own (then only
    the windows are lowered)."""
    last_block = len(bounds) - 2
    for first, stop in runs:
        # The window: whole blocks, from the one holding the token before the run to the one
        # holding the token after it (a Chinese character glued to the run may be taken along).
        head = bisect_right(tokens_before, max(first - 1, 0)) - 1
        tail = min(bisect_right(tokens_before, stop) - 1, last_block)
        window_start, window_end = bounds[head], bounds[tail + 1]
        if lowered is None:
            window = text[window_start:window_end].lower()
        else:
            window = lowered[window_start:window_end]
        parts = _TOKEN_SPLIT.split(window)
        ends = list(accumulate(map(len, parts), initial=window_start))[1:]
        yield from _judge_region(text, parts, ends, first - tokens_before[head], stop - tokens_before[head])


def _find_word_runs_with(text: str, tokens: "WordTokens") -> Iterator[Finding]:
    """``_find_word_runs`` from the whole text's tokens: the same chunks, the same findings,
    but only the chunks that can hold a candidate run are looked at.

    A chunk's flags are the whole text's exact flags over the tokens it overlaps, except for
    the two tokens its edges cut (see ``_find_word_runs_in_chunk``). So a candidate run of a
    chunk lies inside a candidate run of the whole text's exact flags, unless a cut token
    becomes a list word ("abandonment" cut to "abandon"); every other chunk is skipped. The
    whole text's candidate runs are found on its approximate flags, which call every list
    word one, and then checked on their exact flags.
    """
    chunks = list(_chunks(len(text)))
    starts, ends = tokens.starts, tokens.ends
    flag_of = _token_flags().get
    runs: list[tuple[int, int]] = []
    for low, high in _candidate_runs(np.frombuffer(tokens.flags, dtype=np.uint8)):
        exact = _exact_flags(text, int(starts[low]), int(ends[high - 1]))
        runs.extend((low + inner.start(), low + inner.end()) for inner in _CANDIDATE_RUN.finditer(exact))
    chunk_starts = np.array([start for start, _ in chunks])
    chunk_ends = np.array([end for _, end in chunks])
    firsts = np.searchsorted(ends, chunk_starts, side="right")  # the first token ending inside
    stops = np.searchsorted(starts, chunk_ends, side="left")  # the first token starting after
    possible = np.zeros(len(chunks), dtype=np.bool_)
    if runs:
        run_starts = np.array([start for start, _ in runs])
        run_ends = np.array([end for _, end in runs])
        following = np.searchsorted(run_ends, firsts, side="right")  # the first run ending past
        reaches = following < len(runs)
        possible[reaches] = run_starts[following[reaches]] < stops[reaches]
    # A cut token that may become a list word: look at it.
    flags = np.frombuffer(tokens.flags, dtype=np.uint8)
    inside = np.flatnonzero(firsts < stops)
    first, last = firsts[inside], stops[inside] - 1
    cut_first = (starts[first] < chunk_starts[inside]) & (flags[first] != _LIST_WORD)
    cut_last = (ends[last] > chunk_ends[inside]) & (flags[last] != _LIST_WORD)
    for chunk in inside[(cut_first | cut_last) & ~possible[inside]].tolist():
        start, end = chunks[chunk]
        first_cut = text[start : min(int(ends[firsts[chunk]]), end)]
        last_cut = text[max(int(starts[stops[chunk] - 1]), start) : end]
        possible[chunk] = _LIST_WORD in (flag_of(first_cut.lower()), flag_of(last_cut.lower()))
    for chunk in np.flatnonzero(possible).tolist():
        start, end = chunks[chunk]
        for finding in _find_word_runs_in_chunk(
            text, start, end, tokens, int(firsts[chunk]), int(stops[chunk])
        ):
            yield Finding(finding.kind, finding.start + start, finding.end + start, finding.detail)


def _candidate_runs(flags: npt.NDArray[np.uint8]) -> list[tuple[int, int]]:
    """The spans of ``_CANDIDATE_RUN.finditer(flags)``, found with array operations.

    A match is a chain of list words (flag 1) in which each is followed by the next either
    directly or across one token of flag 0, as long as the chain goes, if it has 11+ words:
    the regex starts at a chain's first word and its greedy repeat runs to the chain's end.
    """
    words = np.flatnonzero(flags == _LIST_WORD)
    if len(words) < MIN_PHRASE_WORDS - 1:
        return []
    gaps = np.diff(words)
    linked = (gaps == 1) | ((gaps == 2) & (flags[words[:-1] + 1] == 0))
    breaks = np.flatnonzero(~linked)
    chain_first = np.concatenate(([0], breaks + 1))
    chain_last = np.concatenate((breaks, [len(words) - 1]))
    long = chain_last - chain_first + 1 >= MIN_PHRASE_WORDS - 1
    return list(zip(words[chain_first[long]].tolist(), (words[chain_last[long]] + 1).tolist(), strict=True))


def _exact_flags(text: str, start: int, end: int) -> bytes:
    """The exact flags of the tokens of ``text[start:end]``, a stretch that opens and closes
    with a word: such a stretch tokenizes on its own exactly as within any longer text (a
    sentence end inside it has its preceding character inside it)."""
    return bytes(map(_token_flags().get, _TOKEN.findall(text[start:end].lower()), repeat(0)))


def _find_word_runs_in_chunk(
    text: str, start: int, end: int, tokens: "WordTokens", first: int, stop: int
) -> Iterator[Finding]:
    """The same findings as ``_find_word_runs_in(text[start:end])``, offsets relative to
    ``start``, from the whole text's tokens ``first``..``stop - 1`` (those that overlap the
    chunk) instead of a fresh tokenization of the chunk.

    The chunk's own tokens are those, the two at its ends cut at its edges, plus a sentence end
    at its very first character that the whole text does not count (it follows a digit just
    before the chunk). Their flags may call a token a list word when it is not (``WordTokens``),
    never the other way round, so a candidate run of the chunk lies inside a candidate run of
    these flags: only those few stretches are tokenized again, for the exact flags.
    """
    starts, ends = tokens.starts, tokens.ends
    flag_of = _token_flags().get
    flags = bytearray(tokens.flags[first:stop])
    if flags and starts[first] < start:
        flags[0] = flag_of(text[start : min(int(ends[first]), end)].lower(), 0)
    if flags and ends[stop - 1] > end:
        flags[-1] = flag_of(text[max(int(starts[stop - 1]), start) : end].lower(), 0)
    extra = text[start] in SENTENCE_END_TOKENS and not (flags and starts[first] == start)
    if extra:
        flags.insert(0, _SENTENCE_END)
    # ... and one at its very last character: a dot glued to the word after the chunk, which
    # the chunk alone sees as a sentence end.
    extra_end = _glued_dot_cut(text, start, end)
    if extra_end:
        flags.append(_SENTENCE_END)
    runs: list[tuple[int, int]] = []
    for match in _CANDIDATE_RUN.finditer(flags):
        low, high = match.span()
        # A run's flags open and close with a word, so ``_exact_flags`` applies.
        span_start = max(int(starts[first + low - extra]), start)
        span_end = min(int(ends[first + high - 1 - extra]), end)
        exact = _exact_flags(text, span_start, span_end)
        runs.extend((low + inner.start(), low + inner.end()) for inner in _CANDIDATE_RUN.finditer(exact))
    if not runs:
        return
    chunk = text[start:end]
    # Lower-casing keeps every character in place here (``WordTokens`` exist only then), so
    # the blocks can be found in the original and only the windows need lowering.
    bounds = _block_bounds(chunk)
    local_starts = np.maximum(starts[first:stop], start) - start
    if extra:
        local_starts = np.concatenate(([0], local_starts))
    if extra_end:
        local_starts = np.concatenate((local_starts, [end - 1 - start]))
    tokens_before = np.searchsorted(local_starts, bounds, side="left").tolist()
    yield from _judge_runs(chunk, None, bounds, tokens_before, runs)


_WORD_CHAR = re.compile(rf"[^{NON_WORD_CLASS}]")


def _glued_dot_cut(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` ends with a dot glued between two words of ``text``: a
    separator in the whole text, a sentence end in the chunk alone."""
    return (
        start <= end - 2
        and end < len(text)
        and text[end - 1] == "."
        and _WORD_CHAR.match(text, end - 2) is not None
        and _WORD_CHAR.match(text, end) is not None
    )


def _block_bounds(text: str) -> list[int]:
    """0, then the end of the first whitespace character after each ``_BLOCK`` characters,
    then len(text): the bounds of the tokenizing blocks."""
    bounds = [0]
    target = _BLOCK
    while target < len(text) and (match := _WHITESPACE.search(text, target)) is not None:
        bounds.append(match.end())
        target = match.end() + _BLOCK
    bounds.append(len(text))
    return bounds


def _find_word_runs_in_resized(text: str, lowered: str) -> Iterator[Finding]:
    """Rare ("İ" lowers to two characters): split the original and lower token by token."""
    flag_of = _token_flags().get
    if not _CANDIDATE_RUN.search(bytes(map(flag_of, _TOKEN.findall(lowered), repeat(0)))):
        return
    parts = _TOKEN_SPLIT.split(text)
    lowered_tokens = [token.lower() for token in parts[1::2]]
    flags = bytes(map(flag_of, lowered_tokens, repeat(0)))
    ends = list(accumulate(map(len, parts)))
    for first, stop in [match.span() for match in _CANDIDATE_RUN.finditer(flags)]:
        yield from _judge_region(text, parts, ends, first, stop, lowered_tokens[first:stop])


def _judge_region(
    text: str, parts: list[str], ends: list[int], first: int, stop: int, lowered: list[str] | None = None
) -> Iterator[Finding]:
    """Findings among tokens ``first``..``stop - 1`` of ``parts`` (lowered unless ``lowered``
    gives the lowered tokens); ``ends`` are offsets into ``text``."""
    region = _Region(
        text,
        parts,
        ends,
        first,
        parts[2 * first + 1 : 2 * stop : 2] if lowered is None else lowered,
        [_is_phrase_separator(parts[2 * k + 2]) for k in range(first, stop - 1)],
    )
    for segment in _best_segments(region):
        start = ends[2 * segment.first]
        end = ends[2 * segment.last + 1]
        start, end = _extend_over_glued_han(segment, parts, ends, start, end)
        yield Finding(_kind_of(segment), start, end, _describe(segment))


@cache
def _token_flags() -> dict[str, int]:
    flags = dict.fromkeys(any_list_word(), _LIST_WORD)
    flags.update(dict.fromkeys(SENTENCE_END_TOKENS, _SENTENCE_END))
    return flags


def _is_phrase_separator(separator: str) -> bool:
    if separator == ".":
        return True  # glued between two words ("abandon.ability"): not a sentence end
    if _PHRASE_SEPARATOR.fullmatch(separator) is None:
        return False
    # "word. Word" ends a sentence; "1. word" is numbering.
    return not _SENTENCE_END_CHAR.search(separator) or _DIGIT.search(separator) is not None


def _best_segments(region: _Region) -> list[_Segment]:
    if _longest_true_run(region.separators_ok) < MIN_PHRASE_WORDS - 2:
        return []  # sentence breaks cut it into pieces too short to be a phrase
    candidates: list[_Segment] = []
    for wordlist in all_wordlists():
        index = wordlist.index
        hits = [word in index for word in region.lowered]
        if sum(hits) >= MIN_PHRASE_WORDS - 1:
            candidates.extend(_segments_of(wordlist, region, hits))
    chosen: list[_Segment] = []
    for segment in sorted(candidates, key=lambda s: s.rank, reverse=True):
        if all(segment.last < other.first or segment.first > other.last for other in chosen):
            chosen.append(segment)
    return chosen


def _longest_true_run(flags: list[bool]) -> int:
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def _segments_of(wordlist: Wordlist, region: _Region, hits: list[bool]) -> Iterator[_Segment]:
    """Maximal runs of this wordlist's words, allowing isolated typos, cut at odd separators."""
    lowered, separators_ok = region.lowered, region.separators_ok
    count = len(lowered)
    k = 0
    while k < count:
        if not hits[k]:
            k += 1
            continue
        start = k
        typo_positions: list[int] = []
        while k + 1 < count and separators_ok[k]:
            if hits[k + 1]:
                k += 1
            elif (
                k + 2 < count
                and separators_ok[k + 1]
                and hits[k + 2]
                and _could_be_typo(wordlist, lowered[k + 1])
            ):
                typo_positions.append(k + 1)
                k += 2
            else:
                break
        yield from _accept(wordlist, region, start, k, typo_positions)
        k += 1


def _could_be_typo(wordlist: Wordlist, token: str) -> bool:
    if token in SENTENCE_END_TOKENS:
        return False
    if wordlist.is_single_character:
        return len(token) == 1
    return _MIN_TYPO_LENGTH <= len(token) <= _MAX_TYPO_LENGTH


def _accept(
    wordlist: Wordlist, region: _Region, start: int, last: int, typos: list[int]
) -> Iterator[_Segment]:
    length = last - start + 1
    if length < MIN_PHRASE_WORDS:
        return
    if typos:
        # The clean stretches between typos compete too: in "my phrase is <12 words>" the
        # checksum-valid stretch must win over the run that swallowed "phrase is".
        bounds = [start - 1, *typos, last + 1]
        for left, right in pairwise(bounds):
            yield from _accept(wordlist, region, left + 1, right - 1, [])
        if len(typos) > length // MIN_PHRASE_WORDS:
            return
    window = None
    if not typos:
        window = _valid_window(wordlist, [wordlist.index[word] for word in region.lowered[start : last + 1]])
    first = region.first
    if (
        window is not None
        and window[1] < _STRONG_CHECKSUM_WORDS
        and _ends_a_sentence(region, last)
        and _formatting_evidence(wordlist, region, start, last) is None
    ):
        # "Site old own call … bag day." — prose made of list words passes a 4-5 bit checksum
        # one time in 16-32; a phrase that ends a sentence must also be announced or laid out.
        window = None
    if window is not None:
        # Words of the sentence around a checksum-valid phrase ("… please help") stay.
        begin, size, span = window
        head = start + begin + first
        yield _Segment(wordlist, head, head + span - 1, size, 0, "valid checksum", True)
        return
    evidence = _formatting_evidence(wordlist, region, start, last)
    if evidence is not None:
        yield _Segment(
            wordlist, start + first, last + first, length - len(typos), len(typos), evidence, False
        )


def _ends_a_sentence(region: _Region, last: int) -> bool:
    following = 2 * (region.first + last) + 3
    return (
        region.separator_after(last) == ""
        and following < len(region.parts)
        and region.parts[following] in SENTENCE_END_TOKENS
    )


def _valid_window(wordlist: Wordlist, indices: list[int]) -> tuple[int, int, int] | None:
    """(offset, size, span) of the longest checksum-valid phrase that (nearly) fills the run.

    When several windows of that size pass (a list word before the phrase, "body aunt … order",
    passes a 4-bit checksum one time in 16), which is the phrase cannot be told: ``span`` (in
    words, from ``offset``) covers them all, so no word of the real one is left in the text."""
    lengths, check = (
        (SLIP39_SHARE_LENGTHS, slip39_checksum_ok)
        if wordlist.is_slip39
        else (BIP39_PHRASE_LENGTHS, bip39_checksum_ok)
    )
    for size in sorted(lengths, reverse=True):
        # Only windows that (nearly) fill the run: a long run of ordinary words offers many
        # windows, and one of them passing a 4-bit checksum by chance proves nothing.
        if 0 <= len(indices) - size <= _CHECKSUM_SLACK:
            passing = [
                begin for begin in range(len(indices) - size + 1) if check(indices[begin : begin + size])
            ]
            if passing:
                return passing[0], size, passing[-1] + size - passing[0]
    return None


def _formatting_evidence(wordlist: Wordlist, region: _Region, start: int, last: int) -> str | None:
    """Without a checksum, a run is a phrase only if it is laid out like one (or announced).

    Ordinary prose made of list words (English has many) fails all of these: it is not
    numbered, not one word per line, and not announced as a phrase. (Lower case and single
    spaces are no evidence: generated word salad and hurried chat look exactly like that.)
    """
    if wordlist.is_single_character:
        return "one character per word"  # nobody writes ordinary Chinese like this
    separators = [region.separator_after(k) for k in range(start, last)]
    half = len(separators) // 2
    if sum(1 for separator in separators if _DIGIT.search(separator)) >= half:
        return "numbered"
    if sum(1 for separator in separators if "\n" in separator) >= half:
        return "one word per line"
    begin = region.start_of(start)
    # The cue may be the run's own first word: "seed: cloud tilt …" ("seed" is a list word).
    cue_end = begin + len(region.token(start))
    if _PHRASE_CUE_BEFORE.search(region.text, max(0, begin - _CUE_LOOKBEHIND), cue_end):
        return "announced as a phrase"
    return None


def _extend_over_glued_han(
    segment: _Segment, parts: list[str], ends: list[int], start: int, end: int
) -> tuple[int, int]:
    """'助记词是的 一 是 …': the first character is glued to the cue; take it along.

    Only when it completes the phrase: with it (or with the character glued to the end) the
    words carry a valid checksum, or, without any checksum, reach a phrase length they lacked.
    A phrase that is whole already keeps its neighbours: in "我的助记词是 的 一 … 大 请帮我"
    the "是" and the "请" are the customer's words, not the phrase's.
    """
    if not segment.wordlist.is_single_character or segment.checksum_ok:
        return start, end
    index = segment.wordlist.index
    glued_before = glued_after = None
    before = segment.first - 1
    if before >= 0:
        token = parts[2 * before + 1]
        if len(token) > 1 and token[-1] in index and _PHRASE_SEPARATOR.fullmatch(parts[2 * segment.first]):
            glued_before = token[-1]
    after = segment.last + 1
    if 2 * after + 1 < len(parts):
        token = parts[2 * after + 1]
        if len(token) > 1 and token[0] in index and _PHRASE_SEPARATOR.fullmatch(parts[2 * after]):
            glued_after = token[0]
    if glued_before is None and glued_after is None:
        return start, end
    words = [parts[2 * k + 1] for k in range(segment.first, segment.last + 1)]
    indices = [index.get(word) for word in words]
    options = [
        (take_before, take_after)
        for take_before, take_after in ((True, False), (False, True), (True, True))
        if (glued_before is not None or not take_before) and (glued_after is not None or not take_after)
    ]
    chosen = None
    for take_before, take_after in options:
        candidate = [
            *([index[glued_before]] if take_before and glued_before is not None else []),
            *indices,
            *([index[glued_after]] if take_after and glued_after is not None else []),
        ]
        if all(i is not None for i in candidate) and bip39_checksum_ok(
            [i for i in candidate if i is not None]
        ):
            chosen = take_before, take_after
            break
    if chosen is None and len(words) not in BIP39_PHRASE_LENGTHS:
        chosen = next(
            (option for option in options if len(words) + sum(option) in BIP39_PHRASE_LENGTHS), None
        )
    if chosen is None:
        return start, end
    if chosen[0]:
        start = ends[2 * before + 1] - 1
    if chosen[1]:
        end = ends[2 * after] + 1
    return start, end


def _kind_of(segment: _Segment) -> SecretKind:
    return SecretKind.SLIP39_SHARE if segment.wordlist.is_slip39 else SecretKind.RECOVERY_PHRASE


def _describe(segment: _Segment) -> str:
    name = "SLIP-39" if segment.wordlist.is_slip39 else f"BIP39 {segment.wordlist.language}"
    typos = f", {segment.typos} unrecognised" if segment.typos else ""
    return f"{segment.words} {name} words{typos}, {segment.evidence}"


# --- concatenated Chinese -------------------------------------------------------------------


def _find_concatenated_chinese(text: str, view: "TextView | None" = None) -> Iterator[Finding]:
    # Ordinary Chinese meets this pass at every clause, so the regex does the sifting: only
    # runs of 12-36 wordlist characters that stand alone (no Han letter, digit or ASCII letter
    # glued on either side) reach Python, and the loop stays lean: group 1 is a run without
    # spaces (nearly all of them), group 2 one with spaces (a grid copy, say).
    at_start, prefixed = _standalone_chinese_run()
    if view is None:
        first = at_start.match(text)
        matches = prefixed.finditer(text, first.end() if first is not None else 0)
        standalone = matches if first is None else chain((first,), matches)
    else:
        standalone = _standalone_in_zones(text, view)
    for match in standalone:
        finding = _judge_standalone(match, text)
        if finding is not None:
            yield finding
    if "\n" in text:
        yield from _find_grid_rows(text, view)
    if any(cue in text for cue in CUE_CHARACTERS):
        yield from _find_glued_to_cue(text, view)


def _judge_standalone(match: re.Match[str], text: str) -> Finding | None:
    run = match.group(1)
    if run is not None:
        if len(run) > _MAX_CONCATENATED:
            return None  # too long for a phrase (and a single block is no grid)
        start, end = match.span(1)
        detail = _judge_chinese(run, text, start, cued=False)
    else:
        run = match.group(2)
        start, end = match.span(2)
        detail = _judge_grid_copy(run, text, start)
    return None if detail is None else Finding(SecretKind.RECOVERY_PHRASE, start, end, detail)


def _standalone_in_zones(text: str, view: "TextView") -> Iterator[re.Match[str]]:
    """The matches of the standalone-run regex that could be judged a phrase, in text order.

    Every match's run lies in one zone (``TextView.chinese_zones``) and a match that ends in
    one zone leaves the regex searching from a point no later than the next zone's first
    possible match, so zones are independent: searching only the zones that could hold a
    phrase, from just before each, gives exactly the matches a search of the whole text gives
    there. The search stops two characters past the zone, the farthest its look-aheads read.
    """
    at_start, prefixed = _standalone_chinese_run()
    zones = view.chinese_zones(
        MIN_PHRASE_WORDS, _MAX_CONCATENATED, _MAX_COMMON_WORDS + _CUED_EXTRA_COMMON, _GRID_GROUP_SIZES
    )
    for start, end in zones:
        position = start - 1
        if start == 0:
            first = at_start.match(text)
            if first is not None:
                yield first
            position = first.end() if first is not None else 0
        yield from prefixed.finditer(text, position, end + 2)


def _find_grid_rows(text: str, view: "TextView | None" = None) -> Iterator[Finding]:
    """A phrase copied from the app's grid, one row per line ("的一是\n在不了\n有和人\n这中大")."""
    if view is None:
        spans = _prefixed_matches(*_grid_rows(), text)
    else:
        # A block opens with a new line, then (after spaces) a row of at most six list
        # characters that a space or new line ends: trying the regex only there finds what a
        # search of the whole text finds, since it could match nowhere else.
        spans = _prefixed_matches_at(*_grid_rows(), text, view.grid_block_starts(_MAX_GRID_ROW))
    for start, end in spans:
        block = text[start:end]
        if _regular_grouping([row.strip(" \t\u3000") for row in block.split("\n")]):
            detail = _judge_grid_copy(block, text, start)
            if detail is not None:
                yield Finding(SecretKind.RECOVERY_PHRASE, start, end, detail)


def _prefixed_matches(
    at_start: re.Pattern[str], prefixed: re.Pattern[str], text: str
) -> Iterator[tuple[int, int]]:
    """Spans of ``body`` where ``at_start`` is ``body`` and ``prefixed`` is ``<one char>(body)``.

    "Starts a line" / "not glued to a letter" written as a consumed first character rather than
    a look-behind gives the regex a first-character set, and the C search loop then skips every
    other character without trying a match (a look-behind is tried at every position). The
    first character of the text has no predecessor, so it is tried on its own.
    """
    position = 0
    first = at_start.match(text)
    if first is not None:
        yield first.span(1)
        position = first.end()
    for match in prefixed.finditer(text, position):
        yield match.span(1)


def _prefixed_matches_at(
    at_start: re.Pattern[str], prefixed: re.Pattern[str], text: str, candidates: list[int]
) -> Iterator[tuple[int, int]]:
    """``_prefixed_matches``, trying ``prefixed`` only at ``candidates`` (ascending), which
    must include every position where it could match."""
    position = 0
    first = at_start.match(text)
    if first is not None:
        yield first.span(1)
        position = first.end()
    for candidate in candidates:
        if candidate >= position and (match := prefixed.match(text, candidate)) is not None:
            yield match.span(1)
            position = match.end()


_MAX_GRID_ROW = 6


@cache
def _grid_rows() -> tuple[re.Pattern[str], re.Pattern[str]]:
    chars = "".join(sorted(chinese_wordlist_chars()))
    row = rf"[ \t\u3000]*[{chars}]{{1,{_MAX_GRID_ROW}}}[ \t\u3000]*"
    block = rf"({row}(?:\n{row}){{1,11}})$"
    # A block starts the text or follows a new line (the original ``(?m)^``).
    return re.compile(rf"(?m){block}"), re.compile(rf"(?m)\n{block}")


@cache
def _standalone_chinese_run() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Runs of 12-36 wordlist characters (single spaces allowed) that stand alone: no Han
    letter, digit or ASCII letter glued on either side; the run is group 1 or 2."""
    chars = "".join(sorted(chinese_wordlist_chars()))
    glued = rf"[{_HAN}0-9A-Za-z]"
    # A grid copy: groups of at most six characters (the largest grid group) joined by single
    # spaces, 12+ characters in all. Longer groups are left to the plain form, so that ordinary
    # words before a phrase ("我的助记词是 <phrase>") never swallow it into one failed grid.
    spaced = (
        rf"(?=(?:[ \t\u3000]?[{chars}]){{12}})"
        rf"[{chars}]{{1,{_MAX_GRID_ROW}}}(?:[ \t\u3000][{chars}]{{1,{_MAX_GRID_ROW}}}){{1,{_MAX_GRID_RUN - 1}}}(?!{glued})"
    )
    # Most runs hold no space at all; a plain character-class repeat finds them several times
    # faster than the spaced form's group repetition. A plain run of 12+ characters is judged
    # on its own even when a space and more list characters follow: "助记词是 <phrase> 请帮我…"
    # is a phrase and then the customer's words, and no grid copy has a group that long.
    # Otherwise, if a space follows 1-36 list characters, the spaced form decides.
    plain = rf"[{chars}]{{12,{_MAX_GRID_RUN}}}(?![{chars}])(?!{glued})"
    body = rf"(?:({plain})|(?=[{chars}]{{1,{_MAX_GRID_RUN}}}[ \t\u3000][{chars}])({spaced}))"
    return re.compile(body), re.compile(rf"[^{_HAN}0-9A-Za-z]{body}")


def _judge_grid_copy(run: str, text: str, start: int) -> str | None:
    """Characters in equal groups separated by single spaces or new lines ("的一是 在不了 …")."""
    groups = _HAN_WHITESPACE.split(run)
    if not _regular_grouping(groups):
        return None
    chars = "".join(groups)
    if not 12 <= len(chars) <= _MAX_CONCATENATED:
        return None
    return _judge_chinese(chars, text, start, cued=False)


def _find_glued_to_cue(text: str, view: "TextView | None" = None) -> Iterator[Finding]:
    """ "助记词是的一是在不了有和人这中大请帮我看看": the phrase runs into the words around it."""
    matches = _CUE_THEN_HAN.finditer(text) if view is None else _cue_matches(text, view)
    for match in matches:
        finding = _judge_glued_to_cue(match, text)
        if finding is not None:
            yield finding


_LONGEST_CUE = max(map(len, _CUES))


def _cue_matches(text: str, view: "TextView") -> Iterator[re.Match[str]]:
    """``_CUE_THEN_HAN.finditer(text)``, trying the regex only where a cue may start.

    Every cue holds one of ``CUE_CHARACTERS`` as its second, third or fourth character (and
    no other), so a match can start only one to three characters before one of them.
    """
    candidates = sorted(
        {
            position - back
            for position in view.cue_character_positions()
            for back in range(1, _LONGEST_CUE)
            if position >= back
        }
    )
    position = 0
    for candidate in candidates:
        if candidate >= position and (match := _CUE_THEN_HAN.match(text, candidate)) is not None:
            yield match
            position = match.end()


def _judge_glued_to_cue(match: re.Match[str], text: str) -> Finding | None:
    list_chars = chinese_wordlist_chars()
    run = match.group(1)
    offset = match.start(1)
    # Every candidate below is a prefix of the run, so look at the run once: how far it
    # is all list characters, and where its first common words are (the prefix of
    # ``size`` characters holds those that start before ``size - 1``; no judge allows more
    # than three, so four positions are all it takes).
    most = _MAX_COMMON_WORDS + _CUED_EXTRA_COMMON
    common = _common_word_positions(run, most + 1)
    if bisect_left(common, MIN_PHRASE_WORDS - 1) > most:
        # Every candidate is 12+ characters long and would hold all four: none passes.
        # (Ordinary Chinese after "我的助记词是…" ends here, before any other work.)
        return None
    list_prefix = len(list(takewhile(list_chars.__contains__, run)))
    detail, size = None, 0
    for size in _PHRASE_LENGTHS_LONGEST_FIRST:  # an exact phrase first
        allowed = _allowed_common_words(size) + _CUED_EXTRA_COMMON  # a cue, and a checksum below
        if size <= list_prefix and bisect_left(common, size - 1) <= allowed:
            detail = _checksum_or_cue(run[:size], False, text, offset, need_checksum=True)
            if detail is not None:
                break
    if detail is None and len(run) <= _MAX_CONCATENATED:
        size = len(run)
        one_typo_at_most = sum(map(list_chars.__contains__, run)) >= size - 1
        if one_typo_at_most and bisect_left(common, size - 1) <= _allowed_common_words(size):
            detail = _checksum_or_cue(run, True, text, offset)
    if detail is None:
        return None
    return Finding(SecretKind.RECOVERY_PHRASE, offset, offset + size, detail)


_PHRASE_LENGTHS_LONGEST_FIRST = tuple(sorted(BIP39_PHRASE_LENGTHS, reverse=True))


_MAX_COMMON_WORDS = 2
# After a phrase cue ("助记词：…"), a run with a valid checksum may hold one common word more
# than a phrase on its own: the cue and the checksum together are the evidence, and a random
# phrase holds that many ~1% of the time (12 characters, two common words), too often to lose.
_CUED_EXTRA_COMMON = 1


def _allowed_common_words(length: int) -> int:
    # A random 12-15 character phrase holds more than one common word ~0.5% of the time.
    return 1 if length <= 15 else _MAX_COMMON_WORDS


def _common_word_positions(chars: str, limit: int) -> list[int]:
    """The first ``limit`` positions i where chars[i:i+2] is a common two-character word.

    Iterated in C and lazily: ordinary Chinese yields them within a few characters.
    """
    pairs = map(add, chars, chars[1:])
    return list(islice(compress(count(), map(common_chinese_bigrams().__contains__, pairs)), limit))


def _judge_chinese(chars: str, text: str, start: int, cued: bool) -> str | None:
    allowed = _allowed_common_words(len(chars))
    # The common words up to the (allowed+2)-th, if any: ordinary Chinese meets them within a
    # few characters, and the whole test stays in C.
    common = filter(common_chinese_bigrams().__contains__, map(add, chars, chars[1:]))
    found = len(list(islice(common, allowed + _CUED_EXTRA_COMMON + 1)))
    if found > allowed + _CUED_EXTRA_COMMON:
        return None  # reads like ordinary Chinese
    if found > allowed:
        # One common word too many for a phrase on its own: a cue and a checksum, or nothing.
        if not (cued or _cue_before(text, start)):
            return None
        return _checksum_or_cue(chars, cued, text, start, need_checksum=True)
    return _checksum_or_cue(chars, cued, text, start)


# A character every cue of ``_PHRASE_CUE_BEFORE`` opens with (any case): most windows of ordinary
# Chinese hold none, and are done with one set test instead of the regex.
_CUE_OPENINGS = frozenset("助记記短种種备備私密mMsSſrRpPbBwW")


def _cue_before(text: str, start: int) -> bool:
    window = text[max(0, start - _CUE_LOOKBEHIND) : start]
    return not _CUE_OPENINGS.isdisjoint(window) and _PHRASE_CUE_BEFORE.search(window) is not None


def _regular_grouping(groups: list[str]) -> bool:
    """A phrase is one block, or equal groups copied from a grid ("的一是 在不了 …").

    Ordinary text that merely lost its punctuation splits unevenly ("我的钱包打不开了 牛军").
    """
    if len(groups) == 1:
        return True
    sizes = {len(group) for group in groups}
    return len(sizes) == 1 and sizes <= _GRID_GROUP_SIZES


def _checksum_or_cue(
    chars: str, cued: bool, text: str, start: int, need_checksum: bool = False
) -> str | None:
    for wordlist in chinese_wordlists():
        index = wordlist.index
        indices = [index[char] for char in chars if char in index]
        if len(indices) == len(chars) and bip39_checksum_ok(indices):
            return f"{len(chars)} BIP39 {wordlist.language} characters, valid checksum"
    if need_checksum:
        return None
    if cued or _PHRASE_CUE_BEFORE.search(text, max(0, start - _CUE_LOOKBEHIND), start):
        return f"{len(chars)} BIP39 Chinese characters after a phrase cue, no valid checksum"
    return None
