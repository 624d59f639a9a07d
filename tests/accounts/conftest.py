"""Helpers for the accounts tests: real logins through allauth, TOTP codes, tickets, pictures."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

PASSWORD = "correct horse battery staple 9"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # Rate-limit counters and used-TOTP markers live in the cache; every test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _run_after_commit_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-django wraps each test in a transaction that never commits; run the follow-ups
    # (mails) when the action asks, as the immediate task backend would after a commit.
    monkeypatch.setattr("walletdesk.accounts.actions._after_commit", lambda callback: callback())


def login(client: Client, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def totp_code(secret: str, offset: int = 0) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // 30 + offset
    return format_hotp_value(hotp_value(secret, counter))


def normalise_page(html: bytes) -> str:
    """A page without its per-session tokens, to compare two responses byte for byte."""
    text = html.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return text


def picture_with_exif(fmt: str = "JPEG", size: tuple[int, int] = (64, 40)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0110] = "Model-42"  # Model
    exif[0x9286] = "GPS near home"  # UserComment-ish marker
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def security_ticket(user: Any, *, subject: str = "Someone got into my account") -> Any:
    from walletdesk.tickets.actions import NewTicket, create_ticket

    return create_ticket(
        NewTicket(
            subject=subject,
            body="I got an email about a sign-in I did not make.",
            email=user.email,
            user=user,
            category="account_stolen",
            facts={"account": user.email},
        )
    )


def general_ticket(user: Any) -> Any:
    from walletdesk.tickets.actions import NewTicket, create_ticket

    return create_ticket(
        NewTicket(
            subject="I am locked out",
            body="Too many wrong passwords, please help me sign in.",
            email=user.email,
            user=user,
            category="login_locked",
            facts={"account": user.email},
        )
    )


def make_reviewer(user: Any) -> Any:
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name="Identity document reviewers"))
    from walletdesk.accounts.models import User

    return User.objects.get(pk=user.pk)  # fresh permission cache


def forget_allauth_limits() -> None:
    """Drop allauth's rate-limit counters only, as if the next request reached another process
    (they live in the per-process cache) or came minutes later. With Redis the cache shares a
    database with the shared limits (core.ratelimit), which `cache.clear()` would wipe too."""
    from django.conf import settings
    from django.core.cache import cache

    if not getattr(settings, "REDIS_URL", ""):
        cache.clear()
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match="*allauth*", count=1000):
        client.delete(key)
