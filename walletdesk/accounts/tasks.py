"""Security mail and document retention. Tasks take ids, never model instances.

This module imports the actions its tasks run; the actions enqueue these tasks by path
(`core.queue.task_named`), so the import goes one way.

Every notice is written in the user's language first and the other language under it: a
security mail must be readable even when the language setting is wrong.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import EmailMessage
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from walletdesk.accounts import actions
from walletdesk.accounts.models import User
from walletdesk.core import mail


def _languages(user: User) -> list[str]:
    """The user's language (Traditional Chinese too), then English, or Simplified Chinese under
    English: two, so a wrong setting still leaves one the reader can read, and no longer."""
    first = mail.language(user.language)
    return [first, "zh-hans" if first == "en" else "en"]


def _send(user: User, kind: str, context: dict[str, Any]) -> None:
    order = _languages(user)
    context = {"user": user, "kind": kind, "SITE_URL": settings.SITE_URL, **context}
    parts = []
    for code in order:
        with translation.override(code):
            parts.append(render_to_string("accounts/email/security_notice.txt", context).strip())
    with translation.override(order[0]):
        subject = render_to_string("accounts/email/security_subject.txt", context).strip()
    body = "\n\n----------------------------------------\n\n".join(parts) + "\n"
    EmailMessage(
        subject=mail.subject(subject),
        body=body,
        to=[user.email or ""],
        headers={"Auto-Submitted": "auto-generated"},
    ).send()


def _user(user_id: int) -> User | None:
    return (
        User.objects.filter(pk=user_id, is_active=True).exclude(email__isnull=True).exclude(email="").first()
    )


@task(queue_name="email")
def send_security_notice(user_id: int, kind: str, data: dict[str, Any]) -> str:
    user = _user(user_id)
    if user is None:
        return "skipped"
    _send(user, kind, {"data": data, "security_url": settings.SITE_URL + reverse("accounts:security")})
    return "sent"


@task(queue_name="email")
def send_unlock_link(user_id: int) -> str:
    """The token is made here, at send time, so the raw value never sits in the task queue."""
    user = _user(user_id)
    if user is None:
        return "skipped"
    raw = actions.issue_unlock_token(user)
    url = settings.SITE_URL + reverse("accounts:unlock_confirm", kwargs={"token": raw})
    _send(user, "unlock_link", {"url": url, "minutes": settings.UNLOCK_LINK_MAX_AGE_MINUTES})
    return "sent"


def password_reset_url(user: User) -> str:
    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return settings.SITE_URL + path.replace("UID-KEY", key)


@task(queue_name="email")
def send_password_reset_link(user_id: int) -> str:
    """After an agent forced a reset: a fresh allauth reset link (single use, expiring)."""
    user = _user(user_id)
    if user is None:
        return "skipped"
    _send(
        user,
        "forced_reset",
        {"url": password_reset_url(user), "minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
    )
    return "sent"


@task()
def purge_expired_documents() -> int:
    return actions.purge_expired_documents()


# --- sign-up mail (queued by adapters.AccountAdapter on both sign-up paths) ----------------------


class _Site:
    """What allauth's mail templates call `current_site`, without django.contrib.sites."""

    @property
    def name(self) -> str:
        return mail.brand_name()

    @property
    def domain(self) -> str:
        return urlsplit(settings.SITE_URL).netloc


def _send_allauth_mail(template_prefix: str, to: str, context: dict[str, Any], language: str) -> None:
    from allauth.account.adapter import get_adapter

    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        message = get_adapter().render_mail(
            template_prefix, to, {"email": to, "current_site": _Site(), **context}
        )
    message.send()


@task(queue_name="email")
def send_email_confirmation(address_id: int, *, signup: bool, language: str = "en") -> str:
    """The "confirm your address" mail. The key (an HMAC of the address) is made here, at send
    time, so it never sits in the task queue."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC

    address = EmailAddress.objects.select_related("user").filter(pk=address_id).first()
    if address is None or address.verified:
        return "skipped"
    key = EmailConfirmationHMAC(address).key
    url = settings.SITE_URL + reverse("account_confirm_email", kwargs={"key": key})
    template = "account/email/email_confirmation_signup" if signup else "account/email/email_confirmation"
    _send_allauth_mail(
        template, address.email, {"user": address.user, "key": key, "activate_url": url}, language
    )
    return "sent"


@task(queue_name="email")
def send_account_exists_notice(user_id: int, address_id: int | None, language: str = "en") -> str:
    """Someone tried to sign up with an address that already has an account: tell its owner."""
    from allauth.account.models import EmailAddress

    user = _user(user_id)
    if user is None:
        return "skipped"
    address = EmailAddress.objects.filter(pk=address_id, user_id=user.pk).first() if address_id else None
    to = address.email if address is not None else (user.email or "")
    context = {
        "signup_url": settings.SITE_URL + reverse("account_signup"),
        "password_reset_url": settings.SITE_URL + reverse("account_reset_password"),
    }
    _send_allauth_mail("account/email/account_already_exists", to, context, language)
    return "sent"
