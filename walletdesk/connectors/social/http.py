"""The HTTP client every provider adapter uses, and what a provider's answer means for retries."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from walletdesk.connectors.social.base import ProviderError
from walletdesk.core.retry import retry_after as parse_retry_after


def client() -> httpx.Client:
    # Short timeouts: a send runs in the worker, and a provider that hangs must not hold it.
    return httpx.Client(timeout=httpx.Timeout(settings.SOCIAL_HTTP_TIMEOUT_SECONDS), follow_redirects=False)


def provider_error(
    provider: str, response: httpx.Response, *, detail: str = "", retry_after: Any = None
) -> ProviderError:
    """5xx and 429 may succeed later (429 after the provider's Retry-After); other 4xx will not."""
    status = response.status_code
    if retry_after is None:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
    retry = status >= 500 or status == 429 or status == 408
    message = f"{provider} answered {status}" + (f": {detail[:300]}" if detail else "")
    return ProviderError(
        message,
        retry=retry,
        retry_after=float(retry_after) if retry_after is not None else None,
        status=status,
    )
