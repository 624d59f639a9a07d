"""What did the person paste? A link, an email address, a phone number, a social account or a
wallet address, read from the text itself.

People paste what a stranger sent them and rarely know what to call it: "@imToken" is not a
"website", and a form that makes them choose judged it as one. The checks are ordered from the
most to the least specific shape, so "support@token.im" is an email, not a link with a user name,
and a bare word like "imToken钱包" is an account name.
"""

import re
from typing import Literal

from .checksums import base58_decode, base58check_decode
from .registry import PLATFORM_ALIASES

DetectedKind = Literal["url", "email", "phone", "handle", "address", "hex64"]

_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TRON = re.compile(r"^T[1-9A-HJ-NP-Za-km-z]{33}$")
_BTC_LEGACY = re.compile(r"^[13][1-9A-HJ-NP-Za-km-z]{25,34}$")
_BECH32 = re.compile(r"^(bc1|tb1)[02-9ac-hj-np-z]{6,87}$")
_BASE58_32_BYTES = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$")
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
# Deliberately strict: a local part with spaces ("call 555 support@token.im") is not an address,
# or a scammer could make the page say "official" next to his own words.
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9\u00a1-\uffff.-]+\.[A-Za-z0-9\u00a1-\uffff-]{2,}$"
)
# Only what a phone number is written with: digits, one leading "+", spaces, dashes, dots, brackets.
PHONE = re.compile(r"^\+?[\d\s().\-]+$")
_PLATFORM_PREFIX = re.compile(r"^([a-z.]+)\s*[:：]\s*@?\S+$", re.IGNORECASE)
# An account name without "@": letters of any script, digits, "_" and "-" (a dot makes it a domain).
_BARE_NAME = re.compile(r"^[\w\-]+$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def address_chain(text: str) -> str | None:
    """The address family of a wallet address ("evm", "tron", "bitcoin", "solana"), or None."""
    if _EVM.match(text):
        return "evm"
    if _TRON.match(text) and base58check_decode(text) is not None:
        return "tron"
    if _BTC_LEGACY.match(text) and base58check_decode(text) is not None:
        return "bitcoin"
    if _BECH32.match(text.lower()) and (text.islower() or text.isupper()):
        return "bitcoin"
    if _BASE58_32_BYTES.match(text) and any(c.isdigit() for c in text):
        raw = base58_decode(text)
        if raw is not None and len(raw) == 32:
            return "solana"
    return None


def phone_digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def detect_kind(value: str) -> DetectedKind | None:
    """The kind of contact ``value`` is written as, or None when it is none of them."""
    text = value.strip()
    if not text:
        return None
    if _HEX64.match(text):
        return "hex64"
    if address_chain(text) is not None:
        return "address"
    lowered = text.lower()
    named = text[text.rindex("<") + 1 : -1] if text.endswith(">") and "<" in text else text  # "Name <a@b.c>"
    if lowered.startswith("mailto:") or EMAIL.match(named):
        return "email"
    if text.startswith(("@", "＠")):
        return "handle"
    prefix = _PLATFORM_PREFIX.match(text)
    if prefix and prefix.group(1).lower() in PLATFORM_ALIASES and not _SCHEME.match(text):
        return "handle"
    if PHONE.match(text.removeprefix("tel:")) and 5 <= phone_digits(text) <= 15:
        return "phone"
    if " " in text:
        return None
    if _SCHEME.match(text) or "." in text:
        return "url"
    if _BARE_NAME.match(text):
        return "handle"
    return None
