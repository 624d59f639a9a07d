"""State changes for accounts. Views, API and admin call these; none writes the models directly."""

from __future__ import annotations

import secrets

from django.db import transaction

from walletdesk.accounts.models import ApiToken, User, hash_token
from walletdesk.core import audit


@transaction.atomic
def issue_api_token(user: User, name: str, *, actor: User | None = None) -> str:
    """Create a token for `user` and return the raw value; it is never retrievable again."""
    raw = "wdk_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw))
    audit.record("api_token.issued", actor=actor or user, target=token, name=name)
    return raw


def user_for_api_token(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return token.user if token else None
