import random

import pytest
from mnemonic import Mnemonic

from tests.shield.secret_factory import PHRASE_WORDS, layouts, phrase_words, slip39_share
from walletdesk.shield import SecretKind, placeholder_for, scan

LANGUAGES = sorted(Mnemonic.list_languages())
CHINESE = ("chinese_simplified", "chinese_traditional")


def assert_redacted(
    text: str, secret_words: list[str], kind: SecretKind = SecretKind.RECOVERY_PHRASE
) -> None:
    result = scan(text)
    assert result, f"nothing found in {text!r}"
    assert kind in result.kinds
    assert placeholder_for(kind, result.language) in result.redacted
    # No run of three consecutive secret words survives (the placeholder replaced them).
    for i in range(len(secret_words) - 2):
        triple = secret_words[i : i + 3]
        assert " ".join(triple) not in result.redacted
        assert "".join(triple) not in result.redacted or len("".join(triple)) < 3
    for finding in result.findings:
        assert 0 <= finding.start < finding.end <= len(text)


def test_every_mnemonic_language_is_covered():
    assert {"english", "chinese_simplified", "chinese_traditional", "japanese", "korean", "spanish"} <= set(
        LANGUAGES
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("words", PHRASE_WORDS)
def test_phrases_in_every_language_length_and_layout(language, words):
    rng = random.Random(f"{language}-{words}")
    secret = phrase_words(language, words, rng)
    for name, text in layouts(secret, chinese=language in CHINESE).items():
        result = scan(text)
        assert result, f"{language} {words} {name}: {text!r}"
        assert SecretKind.RECOVERY_PHRASE in result.kinds, (name, result)
        if language in CHINESE:
            assert "".join(secret) not in result.redacted.replace(" ", "").replace("\n", ""), name
        else:
            assert_redacted(text, secret)


def test_phrase_inside_english_sentence_keeps_the_sentence():
    secret = phrase_words("english", 12, random.Random(1))
    result = scan(f"Hello, I think I lost money. My phrase is {' '.join(secret)} - please help me.")
    assert (
        result.redacted
        == "Hello, I think I lost money. My phrase is [recovery phrase removed] - please help me."
    )
    assert "valid checksum" in result.findings[0].detail


@pytest.mark.parametrize(
    "language", ["english", "spanish", "french", "korean", "japanese", "chinese_simplified"]
)
def test_phrase_with_one_typo_still_counts(language):
    secret = phrase_words(language, 12, random.Random(f"typo-{language}"))
    mistyped = list(secret)
    mistyped[5] = "\u9f98" if language in CHINESE else mistyped[5][:-1] + "q" + mistyped[5][-1]
    result = scan("my seed: " + " ".join(mistyped))
    assert SecretKind.RECOVERY_PHRASE in result.kinds
    assert "unrecognised" in result.findings[0].detail


def test_wrong_word_from_the_list_still_counts_when_laid_out_as_a_phrase():
    secret = phrase_words("english", 12, random.Random(7))
    secret[3] = "zoo" if secret[3] != "zoo" else "abandon"
    numbered = "\n".join(f"{i}. {w}" for i, w in enumerate(secret, 1))
    assert SecretKind.RECOVERY_PHRASE in scan(numbered).kinds


def test_accentless_spanish_and_decomposed_text():
    import unicodedata

    secret = phrase_words("spanish", 12, random.Random(3))
    stripped = [
        "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c)) for w in secret
    ]
    assert scan(" ".join(stripped))
    assert scan(unicodedata.normalize("NFD", " ".join(secret)))
    assert scan(unicodedata.normalize("NFC", " ".join(secret)))


@pytest.mark.parametrize("bits, words", [(128, 20), (256, 33)])
def test_slip39_shares(bits, words):
    share = slip39_share(bits)
    assert len(share.split()) == words
    for text in (share, f"Share 1 of my backup: {share}", "\n".join(share.split())):
        result = scan(text)
        assert SecretKind.SLIP39_SHARE in result.kinds, text
        assert share not in result.redacted
        assert "valid checksum" in result.findings[0].detail


def test_offsets_point_at_the_phrase():
    secret = " ".join(phrase_words("english", 24, random.Random(9)))
    text = f"前缀文字 {secret} 后缀"
    finding = scan(text).findings[0]
    assert text[finding.start : finding.end] == secret


def test_a_list_word_before_a_phrase_does_not_push_its_last_word_out():
    """A list word just before a phrase ("… body\n<12 words>") makes a second 12-word window,
    and it passes the 4-bit checksum one time in 16. The first passing window was taken, and
    the phrase's last word stayed in the text; next to a hex key, that word ("order") then read
    as a hash cue and the key was kept too (tests/e2e/test_no_secret_stored.py, 1 run in ~3000).
    """
    rng = random.Random(18)
    english = Mnemonic("english")
    phrase, extra = next(
        (words, extra)
        for words in (phrase_words("english", 12, rng) for _ in range(1000))
        for extra in ("body", "pipe", "mail", "note")
        if extra not in words and english.check(" ".join([extra, *words[:11]]))
    )
    key = rng.randbytes(32).hex()
    text = f"mk12 {extra}\n{' '.join(phrase)}\n{key}"
    result = scan(text)
    assert result.kinds == {SecretKind.RECOVERY_PHRASE, SecretKind.PRIVATE_KEY}
    assert not set(result.redacted.split()) & set(phrase), result.redacted
    assert key not in result.redacted
