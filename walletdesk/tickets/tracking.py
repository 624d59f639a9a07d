"""Signed, expiring links that let a guest follow a ticket without an account.

This module makes and reads the tokens; which ticket a token opens is decided in `access`
(`ticket_by_tracking_token`, `tracking_token_opens`, `may_see_attachment`).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "walletdesk.tickets.tracking"


class BadTrackingToken(Exception):
    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def make_token(reference: str, contact_id: int) -> str:
    # Not compressed: zlib never shortens a payload this small, so signing.dumps would throw
    # the compressed form away after paying for it on every new ticket. Tokens issued
    # compressed still read (signing.loads looks at the flag).
    return signing.dumps({"r": reference, "c": contact_id}, salt=SALT)


def read_token(token: str) -> tuple[str, int]:
    max_age = settings.TRACKING_LINK_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadTrackingToken(expired=True) from None
    except signing.BadSignature:
        raise BadTrackingToken(expired=False) from None
    return str(data["r"]), int(data["c"])


def tracking_path(reference: str, contact_id: int) -> str:
    return reverse("portal:track", args=[make_token(reference, contact_id)])


def tracking_url(reference: str, contact_id: int) -> str:
    return settings.SITE_URL + tracking_path(reference, contact_id)
