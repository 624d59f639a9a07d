"""Rate limits shared by every process: guest tickets and replies, unlock requests, uploads.

A per-process cache would give each web process (and each machine) its own allowance, so an
attacker's budget grew with the deployment. The counters live where every process sees them:
Redis when `REDIS_URL` is set (one pipelined INCRBY + EXPIRE per request or batch), else the
`RateCounter` table (one `INSERT … ON CONFLICT DO UPDATE … RETURNING` for all of a request's
or a batch's keys). Either way a request costs at most one round trip, and the ticket writer
(tickets.intake) counts a whole group-committed batch in one.

A rate reads "20/h/ip,5/h/email": at most 20 per hour per client address and 5 per hour per
email address. Units: s, m, h, d. Windows are fixed (aligned to the epoch): a counter's key
carries its window number, so a new window starts from zero with no reset step, and old rows
are deleted by `cleanup()` (run at most once a minute per process, and by the sweep task).
Subjects are stored as keyed hashes: the table never holds an address or an email.

An empty rate means no limit.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

from walletdesk.core.clientip import client_ip

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
CLEANUP_EVERY = 60.0


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int
    scope: str  # "ip", "email" or "key": which subject of the request it counts


class RateLimited(Exception):
    """Refused: the caller should come back after `retry_after` seconds."""

    def __init__(self, retry_after: int, scope: str = "") -> None:
        super().__init__(f"rate limited ({scope}); retry after {retry_after}s")
        self.retry_after = max(1, int(retry_after))
        self.scope = scope


@lru_cache(maxsize=64)
def parse(spec: str) -> tuple[Rate, ...]:
    """ "20/h/ip,5/h/email" -> two rates. Malformed specs raise ValueError (checked at start-up)."""
    rates = []
    for part in (p.strip() for p in (spec or "").split(",")):
        if not part:
            continue
        pieces = part.split("/")
        if len(pieces) not in (2, 3) or pieces[1] not in _UNITS:
            raise ValueError(f"bad rate {part!r}: write it like 20/h/ip")
        amount = int(pieces[0])
        if amount < 0:
            raise ValueError(f"bad rate {part!r}: the amount must not be negative")
        rates.append(Rate(amount, _UNITS[pieces[1]], pieces[2] if len(pieces) == 3 else "ip"))
    return tuple(rates)


def validate(spec: str, name: str) -> str:
    """Settings-time check, so a typo stops start-up instead of disabling a limit."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        parse(spec)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None
    return spec


def _subject(scope: str, value: str) -> str:
    """What a rate counts, so that the spellings of one sender share one count.

    - An email: case, full-width letters and a "+tag" all reach the same mailbox, and a flood
      of acknowledgements to carol+1@, carol+2@, CAROL@... is still a flood in her inbox.
    - An IPv6 address: one customer line gets a whole /64 and can pick any address in it, so
      the /64 is the subject; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack
      socket reports IPv4 clients) is the IPv4 address it maps.
    """
    value = unicodedata.normalize("NFKC", value).strip().lower()
    if scope == "email":
        local, at, domain = value.rpartition("@")
        if at and "+" in local.lstrip("+"):
            local = local[: local.index("+", 1)]
        return f"{local}{at}{domain}" if at else value
    if scope == "ip":
        try:
            ip = ipaddress.ip_address(value.split("%", 1)[0])
        except ValueError:
            return value
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                return str(ip.ipv4_mapped)
            return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
        return str(ip)
    return value


def _digest(subject: str) -> str:
    key = str(settings.SECRET_KEY).encode()
    return hmac.new(key, subject.encode(), hashlib.sha256).hexdigest()[:24]


@dataclass(frozen=True)
class _Counted:
    key: str
    amount: int
    retry_after: int
    scope: str


def _keys(action: str, subjects: Mapping[str, str], spec: str, now: float) -> list[_Counted]:
    out = []
    for rate in parse(spec):
        subject = subjects.get(rate.scope)
        if not subject:
            continue  # no email given: the email rate has nothing to count
        window = int(now // rate.seconds)
        key = f"{action}:{rate.scope}:{rate.seconds}:{window}:{_digest(_subject(rate.scope, subject))}"
        retry = math.ceil((window + 1) * rate.seconds - now)
        out.append(_Counted(key, rate.amount, retry, rate.scope))
    return out


# --- the two stores ----------------------------------------------------------------------------


_redis_lock = threading.Lock()
_redis_client: Any = None


def _redis() -> Any:
    global _redis_client
    if _redis_client is None:
        with _redis_lock:
            if _redis_client is None:
                import redis

                # redis-py's pool notices a fork and opens new connections in the child.
                _redis_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return _redis_client


def _increment_redis(increments: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    pipe = _redis().pipeline(transaction=False)
    for key, (n, ttl) in increments.items():
        pipe.incrby(f"walletdesk:rl:{key}", n)
        pipe.expire(f"walletdesk:rl:{key}", ttl, nx=True)
    replies = pipe.execute()
    return {key: int(replies[2 * i]) for i, key in enumerate(increments)}


_last_cleanup = 0.0


def _increment_db(increments: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    global _last_cleanup
    now = time.time()
    from django.db import connection

    from walletdesk.core.models import RateCounter

    table = connection.ops.quote_name(RateCounter._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(increments))
    params: list[Any] = []
    for key, (n, ttl) in increments.items():
        params += [key, n, int(now) + ttl]
    # One statement for every key: atomic on its own (autocommit), so concurrent processes
    # never lose a count, and on SQLite it takes the writer queue once (core.sqlite).
    sql = (
        f"INSERT INTO {table} (bucket, hits, expires_at) VALUES {rows} "  # noqa: S608 - names are ours
        f"ON CONFLICT (bucket) DO UPDATE SET hits = {table}.hits + excluded.hits RETURNING bucket, hits"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = {str(key): int(hits) for key, hits in cursor.fetchall()}
    if now - _last_cleanup > CLEANUP_EVERY:
        _last_cleanup = now
        cleanup(now)
    return counts


def cleanup(now: float | None = None) -> int:
    """Delete the counters of windows that ended (the Redis store expires its own)."""
    from walletdesk.core.models import RateCounter

    # Also with Redis: the table holds what was counted while Redis was unreachable.
    deleted, _ = RateCounter.objects.filter(
        expires_at__lt=int(now if now is not None else time.time())
    ).delete()
    return deleted


# While Redis is unreachable, counts go to the database table instead (see `_increment`), and
# this process does not try Redis again for this long: a dead Redis must cost a request
# nothing, not a refused connection (or, unplugged, a 2 s socket timeout) each time.
REDIS_RETRY_SECONDS = 5.0
_redis_down_until = 0.0


def _increment(increments: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    global _redis_down_until
    if not increments:
        return {}
    if getattr(settings, "REDIS_URL", "") and time.monotonic() >= _redis_down_until:
        import redis

        try:
            return _increment_redis(increments)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            # Redis down: the site keeps taking tickets. The limits still hold, counted in
            # the shared table; an allowance may briefly restart from zero when the store
            # changes, which is a smaller harm than refusing every guest.
            _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            logger.warning("rate limits: Redis unreachable, counting in the database for now")
    return _increment_db(increments)


# --- counting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """One request's claim on a limit: which action, and its subjects by scope."""

    action: str
    spec: str
    subjects: Mapping[str, str]


def charge_many(charges: Sequence[Charge | None]) -> list[RateLimited | None]:
    """Count a batch of requests in one round trip; for each, None or why it is refused.

    Requests are counted in order, so within a batch the first ones over a limit are let
    through and the rest refused, exactly as if they had come one by one. Refused requests
    count too: a flood does not get a fresh allowance by being refused.
    """
    now = time.time()
    per_charge: list[list[_Counted]] = []
    increments: dict[str, tuple[int, int]] = {}
    for c in charges:
        counted = _keys(c.action, c.subjects, c.spec, now) if c is not None else []
        per_charge.append(counted)
        for k in counted:
            n, _ttl = increments.get(k.key, (0, 0))
            increments[k.key] = (n + 1, k.retry_after + 5)
    totals = _increment(increments)
    # What each key stood at before this batch, then replay the batch in order.
    running = {key: totals.get(key, n) - n for key, (n, _ttl) in increments.items()}
    verdicts: list[RateLimited | None] = []
    for counted in per_charge:
        refusal: RateLimited | None = None
        for k in counted:
            running[k.key] += 1
            if running[k.key] > k.amount and (refusal is None or k.retry_after > refusal.retry_after):
                refusal = RateLimited(k.retry_after, k.scope)
        verdicts.append(refusal)
    return verdicts


def charge(charge: Charge | None) -> None:
    """Count one request; raise RateLimited when it is over a limit."""
    refusal = charge_many([charge])[0]
    if refusal is not None:
        raise refusal


def guest_charge(request: Any, action: str, spec: str, email: str | None) -> Charge | None:
    """The charge of a guest's request (client address and email), or None without a rate."""
    if not spec:
        return None
    return Charge(action, spec, {"ip": client_ip(request) or "unknown", "email": (email or "").strip()})


def hit(request: Any, action: str, rate: str, key: str | None = None) -> bool:
    """accounts.ratelimit.hit's contract on the shared store: False when over the limit.

    A rate scoped "key" counts `key`; any other counts the client address (or `key` if given,
    as the cache-based limiter did).
    """
    if not rate:
        return True
    subject = key if key is not None else (client_ip(request) or "unknown")
    subjects = {each.scope: subject for each in parse(rate)}
    return charge_many([Charge(action, rate, subjects)])[0] is None


def forget_all() -> None:
    """Drop every counter: for tests, and for an operator lifting a block set by mistake."""
    from walletdesk.core.models import RateCounter

    if getattr(settings, "REDIS_URL", ""):
        client = _redis()
        for key in client.scan_iter(match="walletdesk:rl:*", count=1000):
            client.delete(key)
    else:
        # With Redis, rows counted while it was down expire with their windows (cleanup()).
        RateCounter.objects.all().delete()
