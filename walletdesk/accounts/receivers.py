"""Signal receivers: allauth, axes and Django auth events turned into account actions."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest

from walletdesk.accounts import actions
from walletdesk.accounts.lockout import DEVICE_COOKIE, attempted_username, device_cookie_value
from walletdesk.accounts.models import IdentityDocument, LoginEvent, User
from walletdesk.core import mail
from walletdesk.core.clientip import client_ip

# Marks a user_login_failed we send ourselves for a wrong 2FA code (so axes counts it too).
FACTOR_KEY = "walletdesk_factor"


def _ip(request: HttpRequest | None) -> str | None:
    # The same reading as axes and the rate limits: X-Forwarded-For only from TRUSTED_PROXIES.
    if request is None:
        return None
    return client_ip(request) or None


def _ua(request: HttpRequest | None) -> str:
    return request.META.get("HTTP_USER_AGENT", "") if request is not None else ""


@receiver(auth_signals.user_logged_in)
def on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None:
        return
    actions.record_login(user, outcome=LoginEvent.Outcome.SUCCESS, ip=_ip(request), user_agent=_ua(request))
    # Security notices are written in the user's language first (tasks._languages); the
    # language they last signed in with is the best we know. Without this every account kept
    # the default "en" and a Chinese user's notices came with English subjects.
    # zh-hant stays zh-hant: a Taiwan or Hong Kong user's notices come in Traditional.
    language = mail.language(getattr(request, "LANGUAGE_CODE", ""))
    if user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language


@receiver(account_signals.user_logged_in)
def remember_device(
    sender: Any, request: HttpRequest, response: Any = None, user: Any = None, **kw: Any
) -> None:
    # This browser signed in to this account: it may keep trying it from an address the per-IP
    # limit throttles (lockout.ip_throttled). Signed, so nobody can mint one for another account.
    if response is None or user is None:
        return
    response.set_cookie(
        DEVICE_COOKIE,
        device_cookie_value(user.pk),
        max_age=settings.LOCKOUT_DEVICE_COOKIE_DAYS * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


@receiver(auth_signals.user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any
) -> None:
    if request is None:
        return
    username = attempted_username(request, credentials)
    user = User.objects.filter(email__iexact=username).first() if username else None
    if user is None:
        return
    locked = bool(getattr(request, "axes_locked_out", False))
    actions.record_login(
        user,
        outcome=LoginEvent.Outcome.LOCKED if locked else LoginEvent.Outcome.FAILED,
        ip=_ip(request),
        user_agent=_ua(request),
        detail=str(credentials.get(FACTOR_KEY, "password")),
    )


@receiver(mfa_signals.authentication_failed)
def on_mfa_failed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # A wrong code counts towards the same lockout as a wrong password.
    if kwargs.get("reauthentication"):
        return
    auth_signals.user_login_failed.send(
        sender=__name__,
        credentials={"username": user.email or user.username, FACTOR_KEY: "2fa"},
        request=request,
    )


def _session_key(request: HttpRequest | None) -> str | None:
    session = getattr(request, "session", None)
    return session.session_key if session is not None else None


@receiver(account_signals.password_changed)
@receiver(account_signals.password_set)
def on_password_changed(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    actions.password_changed(user, current_session_key=_session_key(request), ip=_ip(request), reset=False)


@receiver(account_signals.password_reset)
def on_password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    actions.password_changed(user, current_session_key=None, ip=_ip(request), reset=True)


@receiver(mfa_signals.authenticator_added)
def on_authenticator_added(
    sender: Any, request: HttpRequest, user: User, authenticator: Authenticator, **kw: Any
) -> None:
    if authenticator.type == Authenticator.Type.TOTP:
        actions.mfa_changed(user, enabled=True, ip=_ip(request))


@receiver(mfa_signals.authenticator_removed)
def on_authenticator_removed(
    sender: Any, request: HttpRequest, user: User, authenticator: Authenticator, **kw: Any
) -> None:
    if authenticator.type == Authenticator.Type.TOTP and not is_mfa_enabled(user):
        actions.mfa_changed(user, enabled=False, ip=_ip(request))


@receiver(post_delete, sender=IdentityDocument)
def delete_document_file(sender: Any, instance: IdentityDocument, **kwargs: Any) -> None:
    # Deleting a document (or its case, by cascade) removes the ciphertext from storage too.
    if instance.file:
        instance.file.delete(save=False)
