"""Result types of :func:`walletdesk.shield.scan`.

A finding never carries the secret itself, only where it was: results get logged and stored,
and the whole point of the shield is that the secret is not.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum


class SecretKind(StrEnum):
    RECOVERY_PHRASE = "recovery_phrase"  # BIP39 mnemonic, any wordlist language
    SLIP39_SHARE = "slip39_share"  # one SLIP-39 (Shamir) share
    PRIVATE_KEY = "private_key"  # raw 32-byte key written as 64 hex digits
    WIF_KEY = "wif_key"  # Bitcoin wallet-import-format key
    EXTENDED_PRIVATE_KEY = "extended_private_key"  # BIP32 xprv / yprv / zprv / tprv ...
    KEYSTORE = "keystore"  # Ethereum keystore (v3) JSON


# The placeholder follows the language of the message it sits in (``scan`` decides, see
# ``placeholder_language``): an English placeholder inside Chinese text reads as a glitch, and
# the customer's own copy of the ticket should say plainly what was taken out. Both sets are
# stable strings: stored messages, tests and other code recognise them (``ALL_PLACEHOLDERS``).
ENGLISH, CHINESE = "en", "zh"
PLACEHOLDERS: dict[SecretKind, str] = {
    SecretKind.RECOVERY_PHRASE: "[recovery phrase removed]",
    SecretKind.SLIP39_SHARE: "[recovery share removed]",
    SecretKind.PRIVATE_KEY: "[private key removed]",
    SecretKind.WIF_KEY: "[private key removed]",
    SecretKind.EXTENDED_PRIVATE_KEY: "[extended private key removed]",
    SecretKind.KEYSTORE: "[keystore file removed]",
}
PLACEHOLDERS_ZH: dict[SecretKind, str] = {
    SecretKind.RECOVERY_PHRASE: "[已删除助记词]",
    SecretKind.SLIP39_SHARE: "[已删除助记词分片]",
    SecretKind.PRIVATE_KEY: "[已删除私钥]",
    SecretKind.WIF_KEY: "[已删除私钥]",
    SecretKind.EXTENDED_PRIVATE_KEY: "[已删除扩展私钥]",
    SecretKind.KEYSTORE: "[已删除 Keystore 文件]",
}
_BY_LANGUAGE = {ENGLISH: PLACEHOLDERS, CHINESE: PLACEHOLDERS_ZH}
ALL_PLACEHOLDERS: frozenset[str] = frozenset([*PLACEHOLDERS.values(), *PLACEHOLDERS_ZH.values()])


def placeholder_for(kind: SecretKind | str, language: str = ENGLISH) -> str:
    """The visible placeholder that replaces a secret of ``kind`` in a text of ``language``
    ("en" or "zh"; anything else gets English)."""
    return _BY_LANGUAGE.get(language, PLACEHOLDERS)[SecretKind(kind)]


# Han characters (and CJK punctuation) against runs of Latin letters: a message is Chinese when
# it holds at least as many Han characters as English words. Counted outside the secrets (an
# English phrase pasted into a Chinese message does not make it English) and on the first
# ``_LANGUAGE_SAMPLE`` characters, which tell a message's language as well as the whole would.
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff0f\uff1a-\uff1f]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_LANGUAGE_SAMPLE = 4000


def placeholder_language(text: str, secret_spans: list[tuple[int, int]]) -> str:
    """ "zh" or "en": the language the placeholders in ``text`` should speak."""
    pieces: list[str] = []
    position = 0
    budget = _LANGUAGE_SAMPLE
    for start, end in [*secret_spans, (len(text), len(text))]:
        piece = text[position : min(start, position + budget)]
        pieces.append(piece)
        budget -= len(piece)
        position = end
        if budget <= 0:
            break
    sample = " ".join(pieces)
    han, words = len(_HAN_CHAR.findall(sample)), len(_LATIN_WORD.findall(sample))
    if not han and not words:
        # Nothing but the secret (a phrase pasted alone): the secret's own script decides.
        sample = text[:_LANGUAGE_SAMPLE]
        han, words = len(_HAN_CHAR.findall(sample)), len(_LATIN_WORD.findall(sample))
    return CHINESE if han and han >= words else ENGLISH


@dataclass(frozen=True, slots=True)
class Finding:
    kind: SecretKind
    start: int  # offset into the scanned text, inclusive
    end: int  # offset into the scanned text, exclusive
    detail: str  # why it was judged a secret, e.g. "12 english words, valid BIP39 checksum"

    @property
    def placeholder(self) -> str:
        """The English placeholder (``ScanResult.language`` says which one the scan used)."""
        return PLACEHOLDERS[self.kind]

    def placeholder_in(self, language: str) -> str:
        return placeholder_for(self.kind, language)


@dataclass(frozen=True, slots=True)
class ScanResult:
    redacted: str
    findings: list[Finding] = field(default_factory=list)
    language: str = ENGLISH  # the language of the placeholders in ``redacted``

    def __bool__(self) -> bool:
        """True when at least one secret was found."""
        return bool(self.findings)

    @property
    def found(self) -> bool:
        return bool(self.findings)

    @property
    def kinds(self) -> frozenset[SecretKind]:
        return frozenset(finding.kind for finding in self.findings)
