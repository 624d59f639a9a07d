"""Human ticket references such as WD-240601-7K3Q9X.

Short enough to read over the phone, unguessable (30 random bits per day), never the primary
key. The alphabet is Crockford's base32 without I, L, O and U, so 1/I and 0/O cannot be confused.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 6
REFERENCE_RE = re.compile(r"\bWD-\d{6}-[0-9A-HJKMNP-TV-Z]{6}\b", re.IGNORECASE)


def new_reference(now: datetime) -> str:
    # One read of the OS's randomness for all six characters (secrets.choice reads it per
    # character): 30 random bits, 5 per character, each an index into the 32-letter alphabet.
    bits = int.from_bytes(secrets.token_bytes(4)) >> 2
    tail = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(RANDOM_CHARS))
    return f"WD-{now:%y%m%d}-{tail}"


def find_reference(text: str) -> str | None:
    """The first ticket reference in a text (an email subject, a chat message), upper-cased."""
    match = REFERENCE_RE.search(text or "")
    return match.group(0).upper() if match else None
