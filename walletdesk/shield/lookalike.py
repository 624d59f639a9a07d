"""Lookalike EVM addresses: the shape of address poisoning.

Wallets show an address as its first and last few characters ("0x1a2b…9f8e"), so a poisoner
generates an address that repeats those characters of one the victim really uses and sends a
zero-value or dust transfer from it, hoping the victim copies it from their history next time.
Two different addresses that agree at both ends are the signal; the middle is what differs.

Pure, no Django: the verifier ("is this address official?") and the chain monitor's poisoning
rule both ask the same question of plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")

# Three hex characters at each end: what wallets show at the least, and at 16**-6 a random pair
# matches once in about 17 million, while poisoners in the wild match four or more
# (Tsuchiya et al., USENIX Security '25). Callers may ask for more.
HEAD = 3
TAIL = 3


@dataclass(frozen=True)
class Likeness:
    head: int  # matching hex characters after "0x"
    tail: int  # matching hex characters at the end


def likeness(a: str, b: str) -> Likeness:
    """How many leading and trailing hex characters two EVM addresses share (case-insensitive)."""
    x, y = _body(a), _body(b)
    head = 0
    while head < 40 and x[head] == y[head]:
        head += 1
    tail = 0
    while tail < 40 - head and x[39 - tail] == y[39 - tail]:
        tail += 1
    return Likeness(head, tail)


def looks_alike(candidate: str, genuine: str, head: int = HEAD, tail: int = TAIL) -> bool:
    """True when ``candidate`` is a different address that copies both ends of ``genuine``."""
    if not (_EVM.match(candidate) and _EVM.match(genuine)):
        return False
    if candidate.lower() == genuine.lower():
        return False
    like = likeness(candidate, genuine)
    return like.head >= head and like.tail >= tail


def _body(address: str) -> str:
    if not _EVM.match(address):
        raise ValueError("not an EVM address (0x and 40 hex characters)")
    return address[2:].lower()
