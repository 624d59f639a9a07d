"""The signature on every webhook, and how a receiver checks it.

    X-Walletdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>

The timestamp is inside what is signed, so a receiver that refuses a `t` older than a few
minutes (`verify(..., tolerance=300)`) refuses a captured request replayed later; within that
window it drops repeats by `X-Walletdesk-Delivery` (the event id). `verify` is the reference a
receiver can copy (it is what the tests use): compare in constant time, over the raw bytes
received (not a re-serialised JSON).
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Walletdesk-Signature"
EVENT_HEADER = "X-Walletdesk-Event"
DELIVERY_HEADER = "X-Walletdesk-Delivery"
DEFAULT_TOLERANCE = 300


def digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={digest(secret, t, body)}"


def verify(
    secret: str, value: str, body: bytes, *, tolerance: int = DEFAULT_TOLERANCE, now: float | None = None
) -> bool:
    """True if `value` (the header) signs `body` with `secret` and is at most `tolerance`
    seconds old (or ahead: clocks drift both ways)."""
    parts: dict[str, list[str]] = {}
    for item in value.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(val)
    stamps = parts.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = digest(secret, t, body)
    # Any v1 may match (a secret being rotated could be signed twice); each compared in constant time.
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))
