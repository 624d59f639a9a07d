"""The security page: own history and sessions only, revocation, new-device notices."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.usersessions.models import UserSession
from django.core import mail
from django.test import Client

from tests.accounts.conftest import login
from walletdesk.accounts.models import LoginEvent
from walletdesk.core.hant import to_hant
from walletdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_security_page_shows_history_sessions_and_links(carol: Any) -> None:
    phone = Client(HTTP_USER_AGENT="WalletApp/5 (iPhone)", REMOTE_ADDR="10.1.0.5")
    laptop = Client(HTTP_USER_AGENT="Firefox/140 (Linux)", REMOTE_ADDR="10.2.0.7")
    login(phone, "carol@example.com")
    login(laptop, "carol@example.com", "wrong password 1")
    login(laptop, "carol@example.com")
    page = laptop.get("/accounts/security/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="session"') == 2
    assert "this device" in html and "WalletApp/5" in html
    assert html.count('data-testid="login-event"') == 3 and "Failed" in html and "10.2.0.7" in html
    assert "/accounts/2fa/" in html and "/accounts/password/change/" in html and "/account-recovery/" in html
    assert page["Cache-Control"].startswith("max-age=0")


def test_security_page_needs_a_login_and_shows_only_me(carol: Any, dave: Any, as_user: Any) -> None:
    assert Client().get("/accounts/security/")["Location"].startswith("/accounts/login/")
    login(Client(HTTP_USER_AGENT="CarolPhone"), "carol@example.com")
    html = as_user(dave).get("/accounts/security/").content.decode()
    assert "CarolPhone" not in html


def test_revoke_another_session_and_refuse_someone_elses(carol: Any, dave: Any) -> None:
    here, there = Client(HTTP_USER_AGENT="here"), Client(HTTP_USER_AGENT="there")
    login(here, "carol@example.com")
    login(there, "carol@example.com")
    other = UserSession.objects.get(user=carol, user_agent="there")
    # dave cannot end carol's session, nor can an anonymous visitor.
    daves = Client()
    login(daves, "dave@example.com")
    assert daves.post(f"/accounts/security/sessions/{other.pk}/revoke/").status_code == 404
    assert Client().post(f"/accounts/security/sessions/{other.pk}/revoke/").status_code == 302
    assert UserSession.objects.filter(pk=other.pk).exists()
    # GET does nothing.
    assert here.get(f"/accounts/security/sessions/{other.pk}/revoke/").status_code == 405
    response = here.post(f"/accounts/security/sessions/{other.pk}/revoke/")
    assert response.status_code == 302
    assert not UserSession.objects.filter(pk=other.pk).exists()
    assert there.get("/accounts/security/").status_code == 302  # signed out
    assert here.get("/accounts/security/").status_code == 200
    assert AuditEntry.objects.filter(action="account.session_revoked", actor=carol).exists()


def test_new_device_sign_in_sends_a_notice_once(carol: Any) -> None:
    login(Client(HTTP_USER_AGENT="Phone", REMOTE_ADDR="10.1.0.5"), "carol@example.com")
    assert mail.outbox == []  # the first sign-in ever is not "new"
    login(Client(HTTP_USER_AGENT="Phone", REMOTE_ADDR="10.1.0.99"), "carol@example.com")
    assert mail.outbox == []  # same device, same network (/24)
    login(Client(HTTP_USER_AGENT="Unknown Browser", REMOTE_ADDR="203.0.113.9"), "carol@example.com")
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["carol@example.com"] and "New sign-in" in notice.subject
    assert "203.0.113.9" in notice.body and "Unknown Browser" in notice.body
    assert LoginEvent.objects.filter(user=carol, outcome="success").count() == 3


def test_a_traditional_chinese_sign_in_gets_its_new_device_notice_in_traditional(carol: Any) -> None:
    # A Taiwan browser: Django's LocaleMiddleware serves it zh-hant.
    login(Client(HTTP_USER_AGENT="Phone", REMOTE_ADDR="10.1.0.5", HTTP_ACCEPT_LANGUAGE="zh-TW"), carol.email)
    carol.refresh_from_db()
    assert carol.language == "zh-hant"
    login(
        Client(HTTP_USER_AGENT="Unknown Browser", REMOTE_ADDR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="zh-TW"),
        carol.email,
    )
    (notice,) = mail.outbox
    first = notice.body.split("-" * 40)[0]
    assert "203.0.113.9" in first and "新" in notice.subject  # Chinese first, then English under it
    assert to_hant(notice.subject) == notice.subject and to_hant(first) == first
    assert "from a device or network" in notice.body and "登录" not in notice.body  # no Simplified
