"""django-axes glue: which username an attempt counts against, the lockout page, lock state.

Axes counts failures per username and per IP (settings.AXES_LOCKOUT_PARAMETERS), whether or not
the username is an account, so the Nth failure on an unknown email gets exactly the same page
as on a real one: the page never says whether the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def normalise(username: str | None) -> str:
    return (username or "").strip().lower()


def attempted_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """allauth authenticates with `email=`; the login form posts `login`; Django's with `username`."""
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        if credentials.get(key):
            return normalise(str(credentials[key]))
    data = getattr(request, "POST", {}) or {}
    return normalise(data.get(settings.AXES_USERNAME_FORM_FIELD) or data.get("email") or "")


def cool_off_minutes() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds() // 60) if cool_off else 0


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The bilingual lockout page (AXES_LOCKOUT_CALLABLE). Says nothing about the account."""
    context = {"minutes": cool_off_minutes(), "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "accounts/lockout.html", context, status=429)


@dataclass(frozen=True)
class LockState:
    locked: bool
    failures: int
    last_failure_at: datetime | None
    locked_until: datetime | None
    last_ip: str | None


def lock_state(username: str) -> LockState:
    """How axes sees this username now (for the agent sidebar and the unlock action)."""
    attempts = AccessAttempt.objects.filter(username=normalise(username))
    cool_off: timedelta | None = get_cool_off()
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    summary = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    failures = int(summary["failures"] or 0)
    last = summary["last"]
    locked = failures >= settings.AXES_FAILURE_LIMIT
    latest = attempts.order_by("-attempt_time").first()
    return LockState(
        locked=locked,
        failures=failures,
        last_failure_at=last,
        locked_until=(last + cool_off) if (locked and last and cool_off) else None,
        last_ip=latest.ip_address if latest else None,
    )
