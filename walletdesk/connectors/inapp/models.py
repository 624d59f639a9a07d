from __future__ import annotations

import hashlib
import secrets

from django.db import models, transaction


class AppKey(models.Model):
    """A key the wallet app's backend uses to file and read tickets for its users.

    Only a hash is stored. The app vouches for who its user is (the id it sends), so a key is a
    server secret of the app's backend, never shipped inside the app binary.

    The email it sends is another matter: only a backend that has verified its users' addresses
    may say so (`vouches_for_email`). Otherwise the email is a claim, like a guest's, and the
    app user is known only by the app's user id: never joined to the account with that email.
    """

    name = models.CharField(max_length=80, unique=True)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    active = models.BooleanField(default=True)
    vouches_for_email = models.BooleanField(
        "vouches for emails",
        default=False,
        help_text="Tick only if this app's backend verifies its users' email addresses: the "
        "email it sends is then taken as proven and joins the user to the account with that address.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    @transaction.atomic
    def issue(cls, name: str, *, vouches_for_email: bool = False) -> tuple[AppKey, str]:
        raw = "wdapp_" + secrets.token_urlsafe(32)
        key = cls.objects.create(
            name=name, prefix=raw[:12], key_hash=cls.hash(raw), vouches_for_email=vouches_for_email
        )
        return key, raw
