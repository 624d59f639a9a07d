"""What the account and recovery views share about rate limits: the client address they record
and the page a refused request gets.

The counting itself is `walletdesk.core.ratelimit`, shared by every process. A refused request
gets HTTP 429 and a page in both languages; nothing it sent is stored. The client IP is
core.clientip's (X-Forwarded-For only from TRUSTED_PROXIES).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from walletdesk.core import clientip


def client_ip(request: HttpRequest) -> str:
    # X-Forwarded-For only from TRUSTED_PROXIES: a spoofed header must not give a flood new buckets.
    return clientip.client_ip(request) or "unknown"


def too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
