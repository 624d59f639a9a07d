"""Lockout after N failures (axes), no enumeration, unlock by link and by agent."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.accounts.conftest import PASSWORD, general_ticket, login, normalise_page
from walletdesk.accounts.models import LoginEvent, UnlockToken
from walletdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def fail_n(email: str, n: int, *, ip: str = "10.0.0.1") -> list[Any]:
    client = Client(REMOTE_ADDR=ip)
    return [login(client, email, "wrong password!!") for _ in range(n)]


def test_lockout_after_n_failures_with_the_same_page_for_unknown_emails(carol: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    known = fail_n("carol@example.com", 3, ip="10.0.0.1")
    unknown = fail_n("nobody@example.com", 3, ip="10.0.0.2")
    # Before the limit: the same generic error on the login form.
    for a, b in zip(known[:2], unknown[:2], strict=True):
        assert a.status_code == b.status_code == 200
        assert "The sign-in details you entered are not correct." in a.content.decode()
        assert normalise_page(a.content).replace("carol@example.com", "E") == normalise_page(
            b.content
        ).replace("nobody@example.com", "E")
    # At the limit: the lockout page, identical for a real and an unknown account.
    assert known[2].status_code == unknown[2].status_code == 429
    page = known[2].content.decode()
    assert "Sign-in paused for your safety" in page
    assert "/accounts/unlock/" in page and "category=login_locked" in page and "30 minutes" in page
    assert normalise_page(known[2].content) == normalise_page(unknown[2].content)
    assert "carol@example.com" not in page
    # Even the right password is refused while locked.
    locked = login(Client(REMOTE_ADDR="10.0.0.1"), "carol@example.com", PASSWORD)
    assert locked.status_code == 429
    # Failures are in carol's login history; a stranger's email is not recorded against anyone.
    assert LoginEvent.objects.filter(user=carol, outcome="failed").count() >= 2
    assert not LoginEvent.objects.exclude(user=carol).exists()


def test_lockout_page_speaks_chinese(carol: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    client = Client(REMOTE_ADDR="10.0.0.3", HTTP_ACCEPT_LANGUAGE="zh-hans")
    login(client, "carol@example.com", "nope nope nope")
    response = login(client, "carol@example.com", "nope nope nope")
    assert response.status_code == 429
    page = response.content.decode()
    assert "为了您的安全" in page and "联系客服" in page


def _unlock_link(body: str) -> str:
    match = re.search(r"http://[^\s]+/accounts/unlock/[^\s]+/", body)
    assert match, body
    return match.group(0).split("8000", 1)[1] if "8000" in match.group(0) else match.group(0)


def test_unlock_request_answers_the_same_and_mails_only_real_accounts(carol: Any) -> None:
    client = Client()
    real = client.post("/accounts/unlock/", {"email": "carol@example.com"})
    fake = Client().post("/accounts/unlock/", {"email": "ghost@example.com"})
    assert real.status_code == fake.status_code == 200
    assert normalise_page(real.content) == normalise_page(fake.content)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["carol@example.com"]
    body = mail.outbox[0].body
    assert "unlock" in body.lower() and "解除" in body  # both languages


def test_unlock_by_link_is_single_use(carol: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    fail_n("carol@example.com", 2, ip="10.0.0.5")
    assert login(Client(REMOTE_ADDR="10.0.0.6"), "carol@example.com", PASSWORD).status_code == 429
    Client().post("/accounts/unlock/", {"email": "carol@example.com"})
    link = _unlock_link(mail.outbox[0].body)
    client = Client()
    # Opening the link (e.g. a mail scanner) does not use it up.
    assert client.get(link).status_code == 200
    assert AccessAttempt.objects.filter(username="carol@example.com").exists()
    done = client.post(link)
    assert done.status_code == 200 and "unlocked" in done.content.decode()
    assert not AccessAttempt.objects.filter(username="carol@example.com").exists()
    assert login(Client(REMOTE_ADDR="10.0.0.6"), "carol@example.com", PASSWORD).status_code == 302
    # Second use is refused.
    assert client.post(link).status_code == 410
    assert client.get(link).status_code == 410
    entry = AuditEntry.objects.get(action="account.unlocked")
    assert entry.data["via"] == "email_link" and entry.target_id == str(carol.pk)
    # A notice went out for the unlock too.
    assert any("unlocked" in m.subject.lower() for m in mail.outbox)


def test_unlock_link_expires(carol: Any) -> None:
    Client().post("/accounts/unlock/", {"email": "carol@example.com"})
    link = _unlock_link(mail.outbox[0].body)
    UnlockToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().post(link).status_code == 410


def test_agent_unlocks_from_the_ticket(carol: Any, alice: Any, as_user: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    ticket = general_ticket(carol)
    fail_n("carol@example.com", 2, ip="10.0.0.7")
    page = as_user(alice).get(f"/agent/tickets/{ticket.reference}/")
    assert page.status_code == 200
    assert 'data-testid="account-security"' in page.content.decode()
    assert page.context["account_security"]["lock"].locked
    url = f"/agent/tickets/{ticket.reference}/account/unlock/"
    # A reason is required.
    as_user(alice).post(url, {"unlock-reason": ""})
    assert AccessAttempt.objects.filter(username="carol@example.com").exists()
    response = as_user(alice).post(url, {"unlock-reason": "Customer called, verified by email"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="carol@example.com").exists()
    entry = AuditEntry.objects.get(action="account.unlocked")
    assert entry.actor == alice and entry.reason == "Customer called, verified by email"
    assert entry.data["via"] == "agent"
