"""Result types of :func:`walletdesk.shield.scan`.

A finding never carries the secret itself, only where it was: results get logged and stored,
and the whole point of the shield is that the secret is not.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class SecretKind(StrEnum):
    RECOVERY_PHRASE = "recovery_phrase"  # BIP39 mnemonic, any wordlist language
    SLIP39_SHARE = "slip39_share"  # one SLIP-39 (Shamir) share
    PRIVATE_KEY = "private_key"  # raw 32-byte key written as 64 hex digits
    WIF_KEY = "wif_key"  # Bitcoin wallet-import-format key
    EXTENDED_PRIVATE_KEY = "extended_private_key"  # BIP32 xprv / yprv / zprv / tprv ...
    KEYSTORE = "keystore"  # Ethereum keystore (v3) JSON


PLACEHOLDERS: dict[SecretKind, str] = {
    SecretKind.RECOVERY_PHRASE: "[recovery phrase removed]",
    SecretKind.SLIP39_SHARE: "[recovery share removed]",
    SecretKind.PRIVATE_KEY: "[private key removed]",
    SecretKind.WIF_KEY: "[private key removed]",
    SecretKind.EXTENDED_PRIVATE_KEY: "[extended private key removed]",
    SecretKind.KEYSTORE: "[keystore file removed]",
}


def placeholder_for(kind: SecretKind | str) -> str:
    """The visible English placeholder that replaces a secret of ``kind``."""
    return PLACEHOLDERS[SecretKind(kind)]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: SecretKind
    start: int  # offset into the scanned text, inclusive
    end: int  # offset into the scanned text, exclusive
    detail: str  # why it was judged a secret, e.g. "12 english words, valid BIP39 checksum"

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True, slots=True)
class ScanResult:
    redacted: str
    findings: list[Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        """True when at least one secret was found."""
        return bool(self.findings)

    @property
    def found(self) -> bool:
        return bool(self.findings)

    @property
    def kinds(self) -> frozenset[SecretKind]:
        return frozenset(finding.kind for finding in self.findings)
