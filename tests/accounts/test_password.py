"""Sign-up with verification, strong passwords, reset by single-use expiring link, sessions ended."""

from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from allauth.usersessions.models import UserSession
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from tests.accounts.conftest import PASSWORD, forget_allauth_limits, login
from walletdesk.accounts.models import User
from walletdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "violet otter marmalade 77"


def test_signup_requires_a_strong_password_and_email_verification() -> None:
    client = Client()
    weak = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "password123", "password2": "password123"},
    )
    assert weak.status_code == 200 and not User.objects.filter(email="new@example.com").exists()
    assert "too common" in weak.content.decode()
    ok = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert ok.status_code == 302
    assert User.objects.filter(email="new@example.com").exists()
    assert len(mail.outbox) == 1 and "confirm" in mail.outbox[0].body.lower()
    # Not verified yet: sign-in sends to the verification page rather than in.
    response = login(Client(), "new@example.com", NEW_PASSWORD)
    assert "/accounts/confirm-email/" in response["Location"]


def _reset_link(client: Client, email: str) -> str:
    mail.outbox.clear()
    client.post("/accounts/password/reset/", {"email": email})
    match = re.search(r"http://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", mail.outbox[-1].body)
    assert match
    return match.group(1)


def _follow_reset(client: Client, link: str, password: str) -> Any:
    # allauth moves the key into the session and redirects to a key-less URL.
    response = client.get(link, follow=True)
    url = response.redirect_chain[-1][0] if response.redirect_chain else link
    return client.post(url, {"password1": password, "password2": password})


def test_password_reset_is_single_use_and_ends_every_session(carol: Any) -> None:
    phone, laptop = Client(), Client()
    assert login(phone, "carol@example.com").status_code == 302
    assert login(laptop, "carol@example.com").status_code == 302
    assert UserSession.objects.filter(user=carol).count() == 2
    link = _reset_link(Client(), "carol@example.com")
    resetter = Client()
    # The new password must pass the same validators.
    weak = _follow_reset(resetter, link, "12345678")
    assert weak.status_code == 200
    done = _follow_reset(resetter, link, NEW_PASSWORD)
    assert done.status_code == 302
    carol.refresh_from_db()
    assert carol.check_password(NEW_PASSWORD)
    # Every session is gone: both devices are signed out.
    assert UserSession.objects.filter(user=carol).count() == 0
    assert phone.get("/accounts/security/").status_code == 302
    assert laptop.get("/accounts/security/").status_code == 302
    # The link cannot be used twice.
    again = Client().get(link, follow=True)
    assert "bad" in again.content.decode().lower() or "invalid" in again.content.decode().lower()
    assert AuditEntry.objects.filter(action="account.password_reset", target_id=str(carol.pk)).exists()
    assert any("reset" in m.subject.lower() for m in mail.outbox)


def test_password_reset_link_expires(carol: Any, settings: Any) -> None:
    link = _reset_link(Client(), "carol@example.com")
    later = PasswordResetTokenGenerator()._now().timestamp() + settings.PASSWORD_RESET_TIMEOUT + 5
    from datetime import datetime

    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=datetime.fromtimestamp(later)):
        response = _follow_reset(Client(), link, NEW_PASSWORD)
    carol.refresh_from_db()
    assert not carol.check_password(NEW_PASSWORD)
    assert response.status_code == 200


def test_unknown_email_reset_reveals_nothing(carol: Any) -> None:
    a = Client().post("/accounts/password/reset/", {"email": "carol@example.com"})
    b = Client().post("/accounts/password/reset/", {"email": "ghost@example.com"})
    assert a.status_code == b.status_code == 302 and a["Location"] == b["Location"]


def test_password_change_keeps_this_session_and_ends_the_others(carol: Any) -> None:
    here, there = Client(), Client()
    login(here, "carol@example.com")
    login(there, "carol@example.com")
    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/accounts/security/").status_code == 200
    assert there.get("/accounts/security/").status_code == 302
    assert UserSession.objects.filter(user=carol).count() == 1
    assert Session.objects.count() >= 1
    assert any("password was changed" in m.subject.lower() for m in mail.outbox)


def test_reset_form_is_no_mail_bomb_for_known_or_unknown_addresses(carol: Any, settings: Any) -> None:
    """The reset form mails the address typed: a reset link to an account, a "no account here"
    notice to anyone else. allauth's per-address limit lives in the per-process cache, so every
    web process (and every minute) gave an attacker more mails into one inbox; clearing the
    cache between posts stands for those. The shared per-address limit holds, the same for a
    known and an unknown address, and the page never changes."""

    settings.RATE_LIMIT_PASSWORD_RESET_MAIL = "2/h/email"
    mail.outbox.clear()
    for n in range(5):
        for address in ("carol@example.com", "stranger@example.net"):
            forget_allauth_limits()
            typed = address.upper() if n % 2 else address
            answer = Client().post("/accounts/password/reset/", {"email": typed})
            assert (answer.status_code, answer["Location"]) == (302, "/accounts/password/reset/done/")
    sent = [m.to[0].lower() for m in mail.outbox]
    assert sorted(sent) == ["carol@example.com"] * 2 + ["stranger@example.net"] * 2
