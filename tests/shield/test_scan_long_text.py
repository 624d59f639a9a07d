"""Long texts go through ``TextView`` (numpy) so the detectors skip what cannot hold a secret;
the findings must be exactly those of the plain detectors.

The reference is ``scan`` with the view switched off (``FAST_PATH_MIN_CHARS`` raised past the
text), run on the same text. Texts mix every secret layout of ``secret_factory`` with the
support corpus and with characters that stress the shortcuts: sentence ends after digits,
"İ" and "Σ" (lower-casing that is not character by character), characters beyond the BMP,
lone surrogates, phrases across chunk boundaries.
"""

import random
import sys
from itertools import repeat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic

from tests.shield.evasions import base58_key_evasions, hex_key_evasions, phrase_evasions
from tests.shield.secret_factory import (
    extended_private_key,
    keystore_json,
    layouts,
    phrase_words,
    raw_private_key,
    slip39_share,
    wif_key,
)
from tests.shield.support_corpus import EN_LINES, ZH_LINES, mixed_text, support_messages
from walletdesk.shield import folding, keys, phrases, scanner, textview
from walletdesk.shield.cues import CUE_CHARACTERS
from walletdesk.shield.findings import ScanResult

LANGUAGES = sorted(Mnemonic.list_languages())
NASTY = [
    "1.", "2。", "3!", ".", "。", "！", "？", "İ", "Σ", "ΣΑΣ", "😀", "𐐀", "\ud800", "\u3000", "\t", "\n",
    "\n \n", " ", "，", "、", "①", "⑫", "0x", "K", "助记词是", "我的助记词：", "私钥", "密鑰是", "seed:",
    "my words are", "TxID: ", "https://etherscan.io/tx/", "private key ", "export ", "交易哈希：", "\r\n",
    "abandon ", "的 ", "的一是", "Ä", "ǅ", "\u0301", "\xa0", "\x85", "\u2028", "12",
    # what folding.py folds (issue 16), and what it must leave alone
    "\u200b", "\u00ad", "\ufeff", "ａｂａｎｄｏｎ ", "１．", "о", "α", "Привет ", "𝐚𝐛", "👨\u200d👩", "❤\ufe0f",
    "abandon.", ".ability", "a.b", "0x1234abcd ", "\u200bability",
]  # fmt: skip
SEPARATORS = ["\n\n", "\n", " ", "", "，", "。", " ! ", "\t", "\u3000", "1. "]


def _secret(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        language = rng.choice(LANGUAGES)
        words = phrase_words(language, rng.choice([12, 15, 18, 21, 24]), rng)
        if rng.random() < 0.15:
            typo = rng.randrange(len(words))
            words[typo] = words[typo][::-1] + "q"
        shapes = layouts(words, chinese=language.startswith("chinese"))
        if rng.random() < 0.3:  # disguised (issue 16): full-width, invisible, look-alike, dots
            shapes = phrase_evasions(words)
        return shapes[rng.choice(sorted(shapes))]
    if kind < 0.7:
        cue = rng.choice(["private key ", "私钥：", "", "TxID: ", "export ", "https://etherscan.io/tx/0x"])
        key = raw_private_key()
        if rng.random() < 0.4:
            forms = hex_key_evasions(key)
            key = forms[rng.choice(sorted(forms))]
        return cue + key
    if kind < 0.85:
        key = wif_key(rng.random() < 0.5) if kind < 0.78 else extended_private_key("xprv")
        if rng.random() < 0.4:
            forms = base58_key_evasions(key, rng)
            key = forms[rng.choice(sorted(forms))]
        return key
    if kind < 0.92:
        return keystore_json(rng.random() < 0.5)
    return slip39_share(128)


_MESSAGES = support_messages(400, seed=41)
_FILLER = mixed_text(200_000, seed=43)


def _piece(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(_MESSAGES)
    if roll < 0.55:
        start = rng.randrange(len(_FILLER) - 3000)
        return _FILLER[start : start + rng.randrange(50, 3000)]
    if roll < 0.7:
        return _secret(rng)
    if roll < 0.9:
        return "".join(rng.choice(NASTY) for _ in range(rng.randrange(1, 6)))
    return rng.choice(EN_LINES + ZH_LINES)


def _text(seed: int, size: int) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        parts += [_piece(rng), rng.choice(SEPARATORS)]
    text = "".join(parts)
    chunk_edges = range(phrases._CHUNK, len(text), phrases._CHUNK - phrases._CHUNK_OVERLAP)
    if chunk_edges:  # a secret right across a chunk boundary
        at = rng.choice(chunk_edges) + rng.randrange(-200, 200)
        text = f"{text[:at]} {_secret(rng)} {text[at:]}"
    return text


def _plain_scan(text: str, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    with monkeypatch.context() as patch:
        patch.setattr(scanner, "FAST_PATH_MIN_CHARS", sys.maxsize)
        return scanner.scan(text)


def _fast_scan(text: str, monkeypatch: pytest.MonkeyPatch) -> ScanResult:
    with monkeypatch.context() as patch:
        patch.setattr(scanner, "FAST_PATH_MIN_CHARS", 0)
        return scanner.scan(text)


@pytest.mark.parametrize("seed", range(40))
def test_long_texts_scan_exactly_as_without_the_view(seed, monkeypatch):
    text = _text(seed, 20_000 + 1_000 * seed)
    assert _fast_scan(text, monkeypatch) == _plain_scan(text, monkeypatch)


@pytest.mark.parametrize("seed", range(150))
def test_tiny_chunks_and_blocks_scan_exactly_as_without_the_view(seed, monkeypatch):
    """Chunks of 400 characters and blocks of a few dozen: every edge case at every edge."""
    monkeypatch.setattr(phrases, "_CHUNK", 400)
    monkeypatch.setattr(phrases, "_CHUNK_OVERLAP", 150)
    monkeypatch.setattr(phrases, "_BLOCK", 64)
    monkeypatch.setattr(textview, "_BLOCK", 50)
    monkeypatch.setattr(textview, "_BLOCK_CUT_LOOKAHEAD", 3)
    text = _text(1000 + seed, 300 + 30 * seed)
    assert _fast_scan(text, monkeypatch) == _plain_scan(text, monkeypatch)


def test_bench_corpora_scan_exactly_as_without_the_view(monkeypatch):
    for text in (mixed_text(400_000, seed=5), "\n\n".join(support_messages(1500, seed=6))):
        result = _fast_scan(text, monkeypatch)
        assert result == _plain_scan(text, monkeypatch)


_TOKEN_TEXT = st.text(alphabet=st.sampled_from("aZé1.!?。！？ \n\t-中的、①\u3000İΣ😀"), max_size=120)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TOKEN_TEXT, st.integers(1, 40))
def test_word_tokens_are_the_tokenizers_tokens(text, block):
    original = textview._BLOCK
    textview._BLOCK = block
    try:
        tokens = textview.TextView(text).word_tokens()
    finally:
        textview._BLOCK = original
    if any(char in text for char in "İΣ"):
        assert tokens is None  # lower-casing is not character by character: the plain path
        return
    assert tokens is not None
    lowered = text.lower()
    found = [
        lowered[start:end] for start, end in zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)
    ]
    assert found == phrases._TOKEN.findall(lowered)
    exact = bytes(map(phrases._token_flags().get, found, repeat(0)))
    # The view's flags may call a token a list word when it is not, never the other way round.
    assert all(view == flag or (view, flag) == (1, 0) for view, flag in zip(tokens.flags, exact, strict=True))


def test_word_tokens_over_every_bmp_character():
    for block in range(0, 0x10000, 0x800):
        text = "".join(
            f"{chr(c)}a{chr(c)}1.{chr(c)}。abandon "
            for c in range(block, block + 0x800)
            if chr(c) not in "İΣ"
        )
        tokens = textview.TextView(text).word_tokens()
        assert tokens is not None
        lowered = text.lower()
        found = [lowered[s:e] for s, e in zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)]
        assert found == phrases._TOKEN.findall(lowered), hex(block)


def test_every_list_word_is_flagged():
    words = sorted(phrases._token_flags())
    text = " ".join(words)
    tokens = textview.TextView(text).word_tokens()
    assert tokens is not None
    assert tokens.flags == bytes(phrases._token_flags()[word] for word in words)


def test_lowering_specials_are_the_only_characters_that_do_not_lower_alone():
    specials = textview.tables().lowering_specials
    assert set(specials) == {
        chr(c) for c in range(0x10000) if len(chr(c).lower()) != 1 or ord(chr(c).lower()) > 0xFFFF
    } | {"Σ"}
    beyond = [chr(c) for c in range(0x10000, sys.maxunicode + 1) if chr(c).lower() != chr(c)]
    assert beyond  # Deseret and others: the view checks the text's own characters for them
    assert textview.TextView("x" * 10 + beyond[0]).word_tokens() is None


def test_every_cue_holds_one_cue_character_after_its_first():
    """``_cue_matches`` tries the regex one to three characters before each cue character."""
    assert phrases._CUE_THEN_HAN.pattern.startswith(f"(?:{'|'.join(phrases._CUES)})")
    for cue in phrases._CUES:
        positions = [i for i, char in enumerate(cue) if char in CUE_CHARACTERS]
        assert len(positions) == 1 and 1 <= positions[0] < phrases._LONGEST_CUE, cue


def _reference_hex_context(text: str, start: int, end: int) -> str | None:
    """``keys._judge_hex_context`` as it was: the cue search over the whole lower-cased context."""
    before = text[max(0, start - keys._CONTEXT_BEFORE) : start]
    if keys._URL_BEFORE_REVERSED.match(before[::-1]):
        return None
    cues = keys._CONTEXT_CUE.findall(before.lower())
    if cues:
        return "64 hex digits after a private-key cue" if cues[-1][0] else None
    first_after = keys._CONTEXT_CUE.search(text[end : end + keys._CONTEXT_AFTER].lower())
    if first_after is not None:
        return "64 hex digits before a private-key cue" if first_after.lastgroup == "key" else None
    return "64 hex digits with no context; treated as a private key to be safe"


_CONTEXT_PIECES = st.sampled_from(
    ["https://", "www.", ".com/", "/", "tx", "x", "export", "secret", "private key", "交易", "私钥", " ",
     "\n", "\u3000", "\xa0", "ı", "K", "İ", "Σ", "ΣΑ", "TX", "ab", "pk", "keys", "scan", "導出", "哈希", "-"]
)  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.lists(_CONTEXT_PIECES, max_size=30).map("".join), st.lists(_CONTEXT_PIECES, max_size=8).map("".join)
)
def test_hex_context_as_before(before, after):
    key = "ab" * 32
    text = f"{before}{key}{after}"
    start = len(before)
    assert keys._judge_hex_context(text, start, start + 64) == _reference_hex_context(text, start, start + 64)


_FOLD_TEXT = st.text(
    alphabet=st.sampled_from("aZ1 .\n中的\u200b\u200d\u00ad\ufeffａ１о α😀\U0001d41a❤\ufe0fΣİ"), max_size=120
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FOLD_TEXT)
def test_folding_windows_from_the_view_are_the_plain_ones(text):
    """``folding.windows`` takes the foldable characters from the view on a long text."""
    assert folding.windows(text, textview.TextView(text)) == folding.windows(text)


def test_foldable_blocks_hold_every_foldable_character():
    """``folding._FOLDABLE_BLOCKS`` is the cheap search; it must not miss a folded character."""
    missed = [
        hex(code) for code in folding.folding_table() if not folding._FOLDABLE_BLOCKS.fullmatch(chr(code))
    ]
    assert not missed
