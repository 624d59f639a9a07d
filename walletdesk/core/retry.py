"""When to try again: a provider's Retry-After, and exponential backoff.

Email, the social providers and outbound webhooks all retry a failed send later. They differ in
their base and cap (a mail server is retried more patiently than a webhook receiver), not in
the rule, so the rule lives here once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# However long a provider asks us to wait, a message is not parked for longer than a day.
LONGEST_WAIT_SECONDS = 86400.0


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds, or None when absent or unreadable.

    RFC 9110: either delta-seconds (digits only) or an HTTP date, which always names GMT. A date
    without a zone is not an HTTP date, so it is ignored rather than guessed at.
    """
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff(attempt: int, *, base: float, cap: float, factor: float = 2, wait: float | None = None) -> float:
    """Seconds before attempt ``attempt + 1``: ``base * factor**(attempt-1)`` up to ``cap``.

    A provider's own ``wait`` (Retry-After, Telegram's retry_after) wins when it is longer,
    up to a day, so a hostile or broken provider cannot park a message for years.
    """
    delay = min(base * factor ** max(attempt - 1, 0), cap)
    if wait:
        delay = max(delay, min(float(wait), LONGEST_WAIT_SECONDS))
    return float(delay)
