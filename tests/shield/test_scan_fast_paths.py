"""The scanner's fast paths must behave exactly like the plain forms they replace.

Each reference pattern below is the straightforward (slower) way to say the same thing; the
scanner uses a rewrite that the regex engine runs faster. Any difference would be a recall or
precision change, so these compare the two on generated text.
"""

import re
import sys
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from walletdesk.shield import keys, phrases
from walletdesk.shield.cues import NON_WORD_CLASS
from walletdesk.shield.wordlists import chinese_wordlist_chars

_HAN = phrases._HAN
_LIST_CHARS = "".join(sorted(chinese_wordlist_chars()))
_NW = NON_WORD_CLASS
# A sentence end is a token unless it follows a digit ("1.") or is a dot glued between two words.
_REFERENCE_TOKEN = re.compile(rf"[^{_NW}]+|(?<![0-9])(?!(?<=[^{_NW}])\.[^{_NW}])[.!?。！？]")
# A run of 12-36 list characters without spaces first; else 12+ in groups of up to 6 joined
# by single spaces (a grid copy).
_REFERENCE_STANDALONE = re.compile(
    rf"(?<![{_HAN}0-9A-Za-z])(?:[{_LIST_CHARS}]{{12,36}}(?![{_LIST_CHARS}])"
    rf"|(?=(?:[ \t\u3000]?[{_LIST_CHARS}]){{12}})[{_LIST_CHARS}]{{1,6}}(?:[ \t\u3000][{_LIST_CHARS}]{{1,6}}){{1,35}})"
    rf"(?![{_HAN}0-9A-Za-z])"
)
_ROW = rf"[ \t\u3000]*[{_LIST_CHARS}]{{1,6}}[ \t\u3000]*"
_REFERENCE_GRID = re.compile(rf"(?m)^{_ROW}(?:\n{_ROW}){{1,11}}$")
_REFERENCE_URL_BEFORE = re.compile(r"(?:https?://|www\.|\.[a-z]{2,10}/)\S*$", re.IGNORECASE)
_REFERENCE_CUE = re.compile(rf"(?P<key>{keys._KEY_CUES})|(?P<hash>{keys._HASH_CUES})")

# A few list characters (and one that is not) so generated runs reach phrase length.
_ZH = st.sampled_from(["的", "一", "是", "在", "不", "了", "有", "和", "人", "这", "中", "大", "龘"])
_ZH_TEXT = st.lists(
    st.one_of(_ZH, _ZH, _ZH, st.sampled_from([" ", "\t", "\u3000", "\n", "，", "a", "7", "。", " \n"])),
    max_size=90,
).map("".join)


def test_lower_casing_never_moves_a_token_boundary():
    """``_find_word_runs_in`` splits the lowered text and uses its parts as the original's."""
    non_word = re.compile(rf"[{NON_WORD_CLASS}]")
    checks = (phrases._PHRASE_SEPARATOR, phrases._DIGIT, phrases._SENTENCE_END_CHAR)
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        lowered = char.lower()
        if lowered == char or len(lowered) != 1:
            continue  # unchanged, or a length change (the scanner then splits the original)
        assert bool(non_word.match(char)) == bool(non_word.match(lowered)), hex(code_point)
        assert (char in "0123456789.!?。！？") == (lowered in "0123456789.!?。！？"), hex(code_point)
        if non_word.match(char):
            assert all(bool(rx.match(char)) == bool(rx.match(lowered)) for rx in checks), hex(code_point)


def test_token_pattern_over_every_bmp_character():
    for block in range(0, 0x10000, 0x800):
        text = "".join(
            f"{chr(c)}a{chr(c)}1.{chr(c)}。" for c in range(block, block + 0x800) if not 0xD800 <= c < 0xE000
        )
        assert phrases._TOKEN.findall(text) == _REFERENCE_TOKEN.findall(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZé1.!?。！？ \n-中、①"), max_size=60))
def test_token_pattern(text):
    assert phrases._TOKEN.findall(text) == _REFERENCE_TOKEN.findall(text)


@settings(max_examples=400, deadline=None)
@given(_ZH_TEXT)
def test_standalone_chinese_runs(text):
    at_start, prefixed = phrases._standalone_chinese_run()
    first = at_start.match(text)
    matches = [*([first] if first else []), *prefixed.finditer(text, first.end() if first else 0)]
    spans = [match.span(1) if match.group(1) is not None else match.span(2) for match in matches]
    assert spans == [match.span() for match in _REFERENCE_STANDALONE.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(_ZH_TEXT)
def test_grid_rows(text):
    spans = list(phrases._prefixed_matches(*phrases._grid_rows(), text))
    assert spans == [match.span() for match in _REFERENCE_GRID.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(1, 70).map(lambda n: "a" * n),
            st.integers(1, 70).map(lambda n: "7" * n),
            st.sampled_from([" ", "中", "-", "😀", "\ud800", "Z" * 55]),
        ),
        max_size=8,
    ).map("".join)
)
def test_long_alphanumeric_runs(text):
    assert list(keys._long_alnum_runs(text)) == [m.span() for m in re.finditer(r"[0-9A-Za-z]{51,}", text)]


_CONTEXT_PIECES = st.sampled_from(
    ["https://", "http://", "www.", ".com/", ".io/", "/", "tx", "x", "export", "secret", "private key",
     "交易", "私钥", " ", "\n", "\u3000", "ı", "K", "TX", "ab", "pk", "keys", "scan", "導出", "哈希"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_CONTEXT_PIECES, max_size=12).map("".join))
def test_url_before_and_nearest_cue(before):
    assert bool(keys._URL_BEFORE_REVERSED.match(before[::-1])) == bool(_REFERENCE_URL_BEFORE.search(before))
    reference = list(_REFERENCE_CUE.finditer(before.lower()))
    cues = keys._CONTEXT_CUE.findall(before.lower())
    assert bool(cues) == bool(reference)
    if cues:
        assert (cues[-1][0] != "") == (reference[-1].lastgroup == "key")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZé1.!?。！？ \n\t-中、①\u3000"), max_size=80), st.integers(1, 9))
def test_blocks_tokenize_like_the_whole_text(text, block):
    """``_find_word_runs_in`` tokenizes in blocks and re-splits only a window of them."""
    original = phrases._BLOCK
    phrases._BLOCK = block
    try:
        bounds = phrases._block_bounds(text)
    finally:
        phrases._BLOCK = original
    tokens = [token for start, end in pairwise(bounds) for token in phrases._TOKEN.findall(text, start, end)]
    assert tokens == phrases._TOKEN.findall(text)
    for start in bounds:  # a window from any bound splits like the whole text from there
        parts = phrases._TOKEN_SPLIT.split(text)
        window = phrases._TOKEN_SPLIT.split(text[start:])
        assert window[1::2] == parts[1::2][len(parts[1::2]) - len(window[1::2]) :]
