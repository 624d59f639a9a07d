"""django-axes glue: which username an attempt counts against, the two limits, the lockout page,
lock state, and the device cookie.

Two limits, in the database axes already shares between every process:

- per account: AXES_FAILURE_LIMIT failures on one username (whether or not it is an account, so
  the Nth failure on an unknown email gets exactly the same page as on a real one) lock that
  username for the cool-off, from everywhere;
- per IP: LOCKOUT_IP_FAILURES failures from one address, across all usernames, within the
  cool-off, throttle that address. It is much higher than the per-account limit because carrier
  NAT and office networks put thousands of people on one address: carol's typos must never stop
  dave or an agent behind the same address. Only a password sprayer (many accounts, a few tries
  each) reaches it.

While an address is throttled, a browser that signed in to the account it now tries before (a
signed device cookie, OWASP's "device cookies") still gets through: the people behind a sprayed
address who use their own devices are not locked out by the sprayer. Refused attempts are not
counted again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False), so a person refused at a
throttled address does not lock their own account by retrying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.core import signing
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from walletdesk import shield

DEVICE_COOKIE = "wd_device"
_DEVICE_SALT = "walletdesk.accounts.device"


def normalise(username: str | None) -> str:
    # What was typed as a login is stored by axes and keys the lock: a recovery phrase pasted
    # into the field by mistake must not be written (the placeholder keys the lock instead).
    value = (username or "").strip().lower()
    if len(value) < 12:
        return value
    return shield.scan(value).redacted


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


# --- the per-IP limit and the device cookie -----------------------------------------------------


def ip_failures(ip: str | None, request: HttpRequest | None = None) -> int:
    """Failures from this address on any username within the cool-off."""
    if not ip:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=ip)
    cool_off = get_cool_off(request)
    if cool_off is not None:
        since = (
            get_cool_off_threshold(request)
            if hasattr(request, "axes_attempt_time")
            else timezone.now() - cool_off
        )
        attempts = attempts.filter(attempt_time__gte=since)
    return int(attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0)


def device_cookie_value(user_id: int) -> str:
    return signing.dumps(user_id, salt=_DEVICE_SALT, compress=False)


def device_user_id(request: HttpRequest) -> int | None:
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    if not raw:
        return None
    max_age = settings.LOCKOUT_DEVICE_COOKIE_DAYS * 86400
    try:
        value = signing.loads(raw, salt=_DEVICE_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def _device_vouches_for(request: HttpRequest, username: str | None) -> bool:
    from walletdesk.accounts.models import User

    user_id = device_user_id(request)
    if user_id is None or not username:
        return False
    return User.objects.filter(pk=user_id, email__iexact=username).exists()


def ip_throttled(request: HttpRequest, username: str | None) -> bool:
    limit = settings.LOCKOUT_IP_FAILURES
    if not limit:
        return False
    ip = getattr(request, "axes_ip_address", None)
    if ip_failures(ip, request) < limit:
        return False
    return not _device_vouches_for(request, username)


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with the per-IP limit beside its per-username one.

    AXES_LOCKOUT_PARAMETERS is [["username"]], so axes itself counts (and, on success, resets)
    only the account's attempts; a throttled address reads as "at the limit" here, which makes
    axes refuse the attempt with the same lockout page.
    """

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        if failures < limit and ip_throttled(request, get_client_username(request, credentials)):
            return int(limit)
        return failures
