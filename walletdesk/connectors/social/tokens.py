"""One access token per account across all processes (WeChat's access_token).

WeChat invalidates the old token when a new one is fetched, so two processes refreshing at
once would leave one holding a dead token. The refresh happens under the `ProviderToken` row's
lock: the second process waits, then finds the first one's fresh token and fetches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from walletdesk.accounts import crypto
from walletdesk.connectors.social.models import ProviderToken, SocialAccount

# Refresh this long before the provider's expiry, so a send never carries a token that
# expires on the way.
MARGIN = timedelta(minutes=5)

# fetch() -> (token, lifetime in seconds)
Fetch = Callable[[], tuple[str, int]]


def current(account: SocialAccount, fetch: Fetch, *, force: bool = False) -> str:
    """The account's valid token, fetched (once, under the lock) if there is none.

    `force`: the provider said the token we hold is invalid (WeChat errcode 40001/42001):
    fetch a new one unless another process already replaced the one we used."""
    now = timezone.now()
    row = ProviderToken.objects.filter(pk=account.pk).first()
    if row is not None and not force and _valid(row, now):
        return crypto.decrypt(bytes(row.token_encrypted)).decode()
    stale = bytes(row.token_encrypted) if row is not None else b""
    with transaction.atomic():
        ProviderToken.objects.get_or_create(pk=account.pk)
        row = ProviderToken.objects.select_for_update().get(pk=account.pk)
        replaced = force and bytes(row.token_encrypted) != stale
        if _valid(row, timezone.now()) and (not force or replaced):
            return crypto.decrypt(bytes(row.token_encrypted)).decode()
        token, lifetime = fetch()
        row.token_encrypted = crypto.encrypt(token.encode())
        row.fetched_at = timezone.now()
        row.expires_at = row.fetched_at + timedelta(seconds=max(lifetime, 0)) - MARGIN
        row.fetches += 1
        row.save()
        return token


def _valid(row: ProviderToken, now: object) -> bool:
    return bool(row.token_encrypted) and row.expires_at is not None and row.expires_at > now  # type: ignore[operator]
