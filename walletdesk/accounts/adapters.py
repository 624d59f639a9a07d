"""allauth adapters: one wording for every failed sign-in, TOTP secrets encrypted at rest,
sign-up mail from the task queue, and the client IP from core.clientip."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from walletdesk.accounts import crypto
from walletdesk.accounts.models import User
from walletdesk.core import mail
from walletdesk.core.agents import is_agent
from walletdesk.core.clientip import client_ip

# The same sentence for a wrong password, an unknown email and a wrong 2FA code, so the login
# page never tells which factor (or whether the account) was wrong.
SIGN_IN_FAILED = _("The sign-in details you entered are not correct.")


def _enqueue_after_commit(callback: Any) -> None:
    from walletdesk.accounts import actions

    actions._after_commit(callback)


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": SIGN_IN_FAILED,
        "username_password_mismatch": SIGN_IN_FAILED,
        "phone_password_mismatch": SIGN_IN_FAILED,
    }

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        # An agent signs in to work the desk, not to read a customer's "My requests" (empty for
        # them). allauth asks this only when no safe `next` came with the sign-in, so a link
        # to one ticket still lands on that ticket.
        if is_agent(request.user):
            return reverse("agent:inbox")
        return super().get_login_redirect_url(request)

    def format_email_subject(self, subject: str) -> str:
        # One brand prefix on every mail (core.mail), not allauth's "[site name]": the site name
        # it would use is the request's host ("127.0.0.1:8311"), and BRAND_NAME is ours.
        return mail.subject(force_str(subject))

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # allauth (65.x) counts only an explicit "confirm your password" as recent, never the
        # sign-in itself, so setting up 2FA straight after signing in asked for the password
        # again. A sign-in (password, or password + code) within ACCOUNT_REAUTHENTICATION_TIMEOUT
        # counts here too; after that window the password is asked again, as before.
        request = getattr(self, "request", None) or allauth_context.request
        if (
            request is not None
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            records = get_authentication_records(request, request.user)
            methods = settings.ACCOUNT_REAUTHENTICATION_METHODS
            times = [r.get("at", 0) for r in records if r.get("method") in methods]
            if times and time.time() - max(times) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
                return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's own reading trusts ALLAUTH_TRUSTED_PROXY_COUNT; ours trusts only the proxies
        # the operator names (TRUSTED_PROXIES), like axes, the login history and our limits.
        return client_ip(request) or "unknown"

    # Sign-up answers a new and a known email alike (ACCOUNT_PREVENT_ENUMERATION): the same
    # page, and the same work. The two mails it may send, "confirm your address" and "you
    # already have an account", are both queued as a task here (one row either way) instead of
    # one of them being written to the SMTP server while the customer waits. The password is
    # hashed on both paths too (forms.SignupForm). Tasks take ids: the confirmation key is made
    # by the worker, so it never sits in the queue.
    def send_confirmation_mail(self, request: HttpRequest, emailconfirmation: Any, signup: bool) -> None:
        from walletdesk.accounts import tasks

        address_id = emailconfirmation.email_address.pk
        language = translation.get_language() or "en"
        _enqueue_after_commit(
            lambda: tasks.send_email_confirmation.enqueue(address_id, signup=signup, language=language)
        )

    # Password-reset mails, to an account's address or (allauth's "unknown account" notice) to
    # any address typed into the form. allauth's per-address limit lives in the per-process
    # cache; this one is shared by every process, so the form is no way to fill an inbox.
    # Known and unknown addresses count alike: the page and the work stay the same.
    _LIMITED_MAILS = ("account/email/password_reset_key", "account/email/unknown_account")

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        if template_prefix in self._LIMITED_MAILS:
            from walletdesk.core import ratelimit

            if not ratelimit.hit(
                getattr(self, "request", None),
                "password-reset-mail",
                settings.RATE_LIMIT_PASSWORD_RESET_MAIL,
                key=email,
            ):
                return
        super().send_mail(template_prefix, email, context)

    def send_account_already_exists_mail(self, email: str) -> None:
        from walletdesk.accounts import tasks
        from walletdesk.core import ratelimit

        # Counted per address in the shared store, from whatever IP: over the limit, the same
        # page and no mail (the owner was told already; more is a mail bomb, not news).
        # allauth's own limit on this mail lives in the per-process cache.
        if not ratelimit.hit(
            getattr(self, "request", None),
            "account-exists-mail",
            settings.RATE_LIMIT_ACCOUNT_EXISTS_MAIL,
            key=email,
        ):
            return

        address = EmailAddress.objects.filter(email__iexact=email).only("pk", "user_id").first()
        user = (
            User.objects.filter(pk=address.user_id).only("pk").first()
            if address is not None
            else User.objects.filter(email__iexact=email).only("pk").first()
        )
        if user is None:
            return
        user_id, address_id = user.pk, (address.pk if address is not None else None)
        language = translation.get_language() or "en"
        _enqueue_after_commit(
            lambda: tasks.send_account_exists_notice.enqueue(user_id, address_id, language=language)
        )


class MFAAdapter(DefaultMFAAdapter):
    error_messages = {**DefaultMFAAdapter.error_messages, "incorrect_code": SIGN_IN_FAILED}

    # allauth stores the TOTP secret in the database; keep it encrypted with the document keys.
    def encrypt(self, text: str) -> str:
        return "fernet:" + crypto.encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if encrypted_text.startswith("fernet:"):
            return crypto.decrypt(encrypted_text.removeprefix("fernet:").encode()).decode()
        return encrypted_text
