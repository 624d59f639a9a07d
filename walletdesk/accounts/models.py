"""People who sign in: customers, agents and admins share one user table.

An agent is a user with `is_staff`; which tickets they see is decided by team membership in
`tickets.access`, not here.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class WalletdeskUserManager(UserManager["User"]):
    def create_user(self, username=None, email=None, password=None, **extra):  # type: ignore[no-untyped-def,override]
        username = username or (email or "").lower() or secrets.token_hex(8)
        return super().create_user(username, email, password, **extra)


class User(AbstractUser):
    # Sign-in is by email; the username column stays because Django's admin and auth forms
    # expect one, and it is filled with the email.
    email = models.EmailField(_("email address"), unique=True, null=True, blank=True)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en", choices=settings.LANGUAGES)
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Away agents get no new assignments.")
    )

    objects: ClassVar[WalletdeskUserManager] = WalletdeskUserManager()  # type: ignore[assignment]

    @property
    def is_agent(self) -> bool:
        return self.is_active and self.is_staff

    @property
    def label(self) -> str:
        return self.display_name or self.get_full_name() or self.email or self.username


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for an agent's API use. Only its hash is stored; the raw value is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
