"""Encryption at rest for identity documents and TOTP secrets: MultiFernet over settings.DOCUMENT_KEYS.

The first key encrypts; every key decrypts. To rotate, put a new key first; `rotate()` re-encrypts
a stored token under it, and the old key can go once nothing needs it.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


@cache
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def keyring() -> MultiFernet:
    return _keyring(tuple(settings.DOCUMENT_KEYS))


def encrypt(data: bytes) -> bytes:
    return keyring().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return keyring().decrypt(token)


def rotate(token: bytes) -> bytes:
    """Re-encrypt under the first key (for key rotation)."""
    return keyring().rotate(token)


@receiver(setting_changed)
def _forget(setting: str, **kwargs: object) -> None:
    if setting == "DOCUMENT_KEYS":
        _keyring.cache_clear()
