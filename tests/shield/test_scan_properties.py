import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.shield.secret_factory import (
    extended_private_key,
    keystore_json,
    phrase_words,
    slip39_share,
    wif_key,
)
from walletdesk.shield import scan

LANGUAGES = [
    "english",
    "chinese_simplified",
    "chinese_traditional",
    "japanese",
    "korean",
    "spanish",
    "french",
]
# A boundary no detector reads across: whitespace around a lone "!" (a sentence end).
BOUNDARY = " ! "


@st.composite
def secrets_(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["phrase", "hex", "wif", "xprv", "keystore", "slip39"]))
    seed = draw(st.integers(0, 2**32))
    rng = random.Random(seed)
    if kind == "phrase":
        language = draw(st.sampled_from(LANGUAGES))
        words = phrase_words(language, draw(st.sampled_from([12, 15, 18, 21, 24])), rng)
        return draw(st.sampled_from([" ", "\n", ", "])).join(words)
    if kind == "hex":
        return "private key " + rng.randbytes(32).hex()
    if kind == "wif":
        return wif_key(draw(st.booleans()))
    if kind == "xprv":
        return extended_private_key("xprv")
    if kind == "keystore":
        return keystore_json(draw(st.booleans()))
    return slip39_share(128)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_scan_never_raises_and_offsets_stay_inside(text):
    result = scan(text)
    previous_end = 0
    for finding in result.findings:
        assert previous_end <= finding.start < finding.end <= len(text)
        previous_end = finding.end
    if not result.findings:
        assert result.redacted == text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200), secrets_(), st.text(max_size=200))
def test_embedded_secret_is_always_redacted(before, secret, after):
    text = before + BOUNDARY + secret + BOUNDARY + after
    result = scan(text)
    assert result
    core = secret.removeprefix("private key ")
    assert core not in result.redacted
    start = len(before) + len(BOUNDARY) + (len(secret) - len(core))
    assert any(f.start <= start and start + len(core) <= f.end for f in result.findings)
