"""EVM addresses for the verifier: their shape and EIP-55 checksum, the operator's official
addresses and the imported scam lists as plain data, and the line format of those lists.

Pure: the registry passes the official addresses (a small set, cached per process) and a
function that asks its database whether one address is listed (one indexed query), so a
million-row list never has to be loaded to judge one address.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from eth_hash.auto import keccak

EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
# What someone meant as an EVM address, however mistyped: "0x" and a run of letters and digits.
# 64 hex characters are a key or a hash and are answered as such before this is asked.
EVM_ATTEMPT = re.compile(r"^0[xX][0-9A-Za-z]{8,}$")
_HEX = re.compile(r"^[0-9a-fA-F]*$")


def checksummed(address: str) -> str:
    """The EIP-55 form: a letter is upper case where keccak256(lower-case hex)'s nibble is >= 8."""
    lower = address[2:].lower()
    digest = keccak(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(n, 16) >= 8 else c for c, n in zip(lower, digest[:40], strict=True)
    )


def evm_checksum_ok(address: str) -> bool:
    """An all-lower or all-upper address carries no checksum; mixed case must match EIP-55."""
    digits = address[2:]
    if digits in (digits.lower(), digits.upper()):
        return True
    return checksummed(address) == "0x" + digits


def evm_address_problem(text: str) -> str | None:
    """None for a well-formed EVM address, else the reason code of what is wrong with it
    (``address_bad_prefix``, ``address_bad_hex``, ``address_wrong_length``, ``address_bad_checksum``).
    The codes carry no part of the value: what was typed may be a secret."""
    if text[:2] not in ("0x", "0X"):
        return "address_bad_prefix"
    digits = text[2:]
    if not _HEX.match(digits):
        return "address_bad_hex"
    if len(digits) != 40:
        return "address_wrong_length"
    if text[1] == "X":  # "0X…": no wallet writes it; a sign the text was retyped or altered
        return "address_bad_prefix"
    if not evm_checksum_ok(text):
        return "address_bad_checksum"
    return None


@dataclass(frozen=True, slots=True)
class OfficialAddress:
    address: str  # lower case
    chain_id: int | None = None  # None: any EVM chain


@dataclass(frozen=True, slots=True)
class AddressBook:
    """What the address verdict is judged against.

    ``official``: the operator's addresses (small; compared in memory, lookalikes included).
    ``listed_in``: the names of the imported lists holding a lower-case address, ordered; the
    registry answers it with one indexed query.
    """

    official: tuple[OfficialAddress, ...] = ()
    listed_in: Callable[[str], list[str]] = field(default=lambda _address: [])


def parse_address_lines(lines: Iterable[str]) -> Iterator[tuple[int, str | None]]:
    """Read a scam-address list: CSV whose first column holds the address, or one per line.

    Yields ``(line number, lower-case address)`` for each address and ``(line number, None)``
    for each line that holds something else. Tolerated and skipped: a byte-order mark, CRLF,
    blank lines, ``#`` comments, and a header (the first row, when its first cell is not an
    address but a word such as "address"). Quotes around the cell and other columns are ignored.
    """
    first = True
    for number, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff").strip()
        if not line or line.startswith(("#", "//")):
            continue
        header_allowed, first = first, False
        cell = line.split(",", 1)[0].split(";", 1)[0].split("\t", 1)[0].strip().strip("\"'").strip()
        if EVM_ADDRESS.match(cell):
            yield number, cell.lower()
        elif header_allowed and _is_header(cell):
            continue
        else:
            yield number, None


def _is_header(cell: str) -> bool:
    return bool(cell) and cell.replace("_", "").replace(" ", "").isalpha()
