"""Cache-based rate limits for endpoints allauth does not cover (unlock requests, uploads).

A rate reads like allauth's: "5/h/ip" (5 per hour per client IP), "10/m/ip". A flood gets
HTTP 429 and a page in both languages; nothing it sent is stored. The client IP is
core.clientip's (X-Forwarded-For only from TRUSTED_PROXIES).

Known limit: the counters live in Django's cache, which is shared with REDIS_URL but is local
memory per process in the embedded mode (two web processes: twice the allowance). These calls
are meant to move to the shared limiter in walletdesk/core/ratelimit.py.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from walletdesk.core import clientip

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(rate: str) -> tuple[int, int]:
    amount, unit, *_rest = rate.split("/")
    return int(amount), _UNITS[unit]


def client_ip(request: HttpRequest) -> str:
    # X-Forwarded-For only from TRUSTED_PROXIES: a spoofed header must not give a flood new buckets.
    return clientip.client_ip(request) or "unknown"


def hit(request: HttpRequest, action: str, rate: str, key: str | None = None) -> bool:
    """Count one request; False when the limit is already used up for this window."""
    if not rate:
        return True
    amount, window = parse(rate)
    subject = key if key is not None else client_ip(request)
    bucket = int(time.time() // window)
    digest = hashlib.sha256(f"{action}:{subject}".encode()).hexdigest()[:32]
    cache_key = f"walletdesk:rl:{action}:{digest}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    return count <= amount


def too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
