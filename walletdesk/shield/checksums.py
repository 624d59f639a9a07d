"""Checksums that turn "looks like a secret" into "is a secret": BIP39, SLIP-39 RS1024, base58check."""

import hashlib
from collections.abc import Sequence

BIP39_PHRASE_LENGTHS = frozenset({12, 15, 18, 21, 24})
SLIP39_SHARE_LENGTHS = frozenset({20, 33})

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUES = {char: value for value, char in enumerate(_BASE58_ALPHABET)}
BASE58_CHARS = frozenset(_BASE58_ALPHABET)


def bip39_checksum_ok(indices: Sequence[int]) -> bool:
    """True when the 11-bit word indices carry a valid BIP39 checksum."""
    count = len(indices)
    if count not in BIP39_PHRASE_LENGTHS:
        return False
    bits = 0
    for index in indices:
        bits = (bits << 11) | index
    checksum_bits = count * 11 // 33
    entropy_bits = count * 11 - checksum_bits
    entropy = (bits >> checksum_bits).to_bytes(entropy_bits // 8, "big")
    expected = hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits)
    return expected == bits & ((1 << checksum_bits) - 1)


_RS1024_GENERATOR = (
    0xE0E040,
    0x1C1C080,
    0x3838100,
    0x7070200,
    0xE0E0009,
    0x1C0C2412,
    0x38086C24,
    0x3090FC48,
    0x21B1F890,
    0x3F3F120,
)
# SLIP-39 checksums are customised by this prefix; "extendable" shares use the second one.
_SLIP39_CUSTOMISATIONS = (b"shamir", b"shamir_extendable")


def _rs1024_polymod(values: Sequence[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 20
        checksum = (checksum & 0xFFFFF) << 10 ^ value
        for bit in range(10):
            if (top >> bit) & 1:
                checksum ^= _RS1024_GENERATOR[bit]
    return checksum


def slip39_checksum_ok(indices: Sequence[int]) -> bool:
    """True when the 10-bit word indices form a SLIP-39 share with a valid RS1024 checksum."""
    if len(indices) not in SLIP39_SHARE_LENGTHS:
        return False
    return any(_rs1024_polymod([*customisation, *indices]) == 1 for customisation in _SLIP39_CUSTOMISATIONS)


def base58_decode(text: str) -> bytes | None:
    """The bytes a base58 string stands for (no checksum), or None when it is not base58."""
    number = 0
    for char in text:
        value = _BASE58_VALUES.get(char)
        if value is None:
            return None
        number = number * 58 + value
    leading_zero_bytes = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_zero_bytes + number.to_bytes((number.bit_length() + 7) // 8, "big")


def base58check_decode(text: str) -> bytes | None:
    """The payload of a base58check string, or None when it is not valid base58check."""
    raw = base58_decode(text)
    if raw is None or len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def base58check_encode(payload: bytes) -> str:
    """Encode ``payload`` with a base58check checksum (used by tests and tooling)."""
    raw = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(raw, "big")
    chars: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        chars.append(_BASE58_ALPHABET[remainder])
    leading_zero_bytes = len(raw) - len(raw.lstrip(b"\x00"))
    return "1" * leading_zero_bytes + "".join(reversed(chars))
