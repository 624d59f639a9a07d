"""People who sign in: customers, agents and admins share one user table.

An agent is a user with `is_staff`; which tickets they see is decided by team membership in
`tickets.access`, not here.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_username() -> str:
    """An opaque, unique value for the username column nobody signs in with.

    Not the email: an email can change, and a later sign-up with the old address would then
    collide with the stale username. Not empty: the column is unique, so the second account
    created without a username (allauth with ACCOUNT_USER_MODEL_USERNAME_FIELD = None) failed.
    """
    return "u-" + secrets.token_hex(12)


class WalletdeskUserManager(UserManager["User"]):
    def create_user(self, username=None, email=None, password=None, **extra):
        return super().create_user(username or new_username(), email, password, **extra)


class User(AbstractUser):
    # Sign-in is by email; the username column stays because Django's admin and auth forms
    # expect one. It carries no meaning: every path that creates a user without naming one
    # (allauth's sign-up, the manager, the admin) gets a fresh opaque value from the default.
    username = models.CharField(
        _("username"),
        max_length=150,
        unique=True,
        default=new_username,
        validators=[AbstractUser.username_validator],
        error_messages={"unique": _("A user with that username already exists.")},
    )
    email = models.EmailField(_("email address"), unique=True, null=True, blank=True)  # type: ignore[assignment]
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=10, default="en", choices=settings.LANGUAGES)
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Away agents get no new assignments.")
    )

    objects: ClassVar[WalletdeskUserManager] = WalletdeskUserManager()

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


class LoginEvent(models.Model):
    """One sign-in attempt on a known account, for the user's security page and the agent sidebar.

    Failed attempts on emails that match no account are not kept here (axes counts them for the
    lockout); storing what strangers type into the email box would only collect noise and typos.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Signed in")
        FAILED = "failed", _("Failed")
        LOCKED = "locked", _("Blocked (locked)")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_events")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # What failed, e.g. "password" or "2fa"; kept for agents, never shown on the login page.
    detail = models.CharField(max_length=40, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # Hash of (user agent, IP prefix): a new value on a successful sign-in means a new device.
    device_key = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.outcome} {self.created_at:%Y-%m-%d %H:%M}"


class UnlockToken(models.Model):
    """A single-use link a locked-out user gets by email. Only the hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="unlock_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"unlock token for user {self.user_id}"


class RecoveryCase(models.Model):
    """An "account stolen" report with the identity documents that back it.

    The story the customer tells lives in the linked ticket (screened by the shield like every
    other message); the case holds who, which ticket, and the encrypted documents.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="recovery_cases"
    )
    email = models.EmailField()
    language = models.CharField(max_length=10, default="en")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # The urgent ticket the case opened. A plain id, not a foreign key: accounts never
    # depends on tickets.
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ticket_reference = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    documents_purge_after = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"recovery case {self.public_id} ({self.status})"


class DocumentKind(models.TextChoices):
    ID_CARD = "id_card", _("National ID card")
    PASSPORT = "passport", _("Passport")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")


class DocumentSide(models.TextChoices):
    FRONT = "front", _("Front")
    BACK = "back", _("Back")
    # The customer's face beside the document: the reviewer compares it with the ID's photo.
    SELFIE = "selfie", _("Selfie holding the document")


def _document_path(instance: IdentityDocument, filename: str) -> str:
    # Random name, no extension, outside any served URL: the bytes are ciphertext anyway.
    return f"identity/{instance.case.public_id}/{uuid.uuid4().hex}.bin"


class IdentityDocument(models.Model):
    """One side of an identity document, stored encrypted (MultiFernet, settings.DOCUMENT_KEYS)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(RecoveryCase, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    side = models.CharField(max_length=10, choices=DocumentSide.choices, default=DocumentSide.FRONT)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(help_text="Plaintext size in bytes.")
    # Images are re-encoded without EXIF; PDFs are kept as sent (their metadata is not removed).
    metadata_stripped = models.BooleanField(default=False)
    file = models.FileField(upload_to=_document_path, max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("view_identity_document", "Can view decrypted identity documents")]

    def __str__(self) -> str:
        return f"{self.kind} {self.side} ({self.public_id})"
