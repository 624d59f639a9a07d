"""A flood gets 429 with a clear message in both languages, and nothing it sent is stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.accounts.test_recovery import form
from walletdesk.accounts.models import IdentityDocument, RecoveryCase, UnlockToken

pytestmark = pytest.mark.django_db


def test_unlock_request_flood(carol: Any, settings: Any) -> None:
    settings.RATE_LIMIT_UNLOCK = "3/h/ip"
    client = Client(REMOTE_ADDR="10.8.8.8")
    codes = [client.post("/accounts/unlock/", {"email": "carol@example.com"}).status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429, 429]
    flood = client.post("/accounts/unlock/", {"email": "carol@example.com"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = flood.content.decode()
    assert "请求过于频繁" in html and "Too many requests" in html
    # At most three mails for that address in the window, however many IPs ask.
    assert len(mail.outbox) == 3 and UnlockToken.objects.count() == 3
    Client(REMOTE_ADDR="10.8.8.9").post("/accounts/unlock/", {"email": "carol@example.com"})
    assert len(mail.outbox) == 3


def test_document_upload_flood(carol: Any, settings: Any) -> None:
    settings.RATE_LIMIT_DOCUMENT_UPLOAD = "2/h/ip"
    client = Client(REMOTE_ADDR="10.7.7.7")
    codes = [client.post("/account-recovery/", form()).status_code for _ in range(4)]
    assert codes == [302, 302, 429, 429]
    assert RecoveryCase.objects.count() == 2 and IdentityDocument.objects.count() == 4


def test_login_flood(settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    settings.AXES_FAILURE_LIMIT = 100
    client = Client(REMOTE_ADDR="10.5.5.5")
    codes = [
        client.post(
            "/accounts/login/", {"login": f"x{i}@example.com", "password": "whatever 123"}
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    flood = client.post("/accounts/login/", {"login": "y@example.com", "password": "p"})
    assert "Too many requests" in flood.content.decode()


def test_password_reset_flood(carol: Any, settings: Any) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "2/m/ip"}
    client = Client(REMOTE_ADDR="10.5.5.6")
    codes = [
        client.post("/accounts/password/reset/", {"email": "carol@example.com"}).status_code for _ in range(4)
    ]
    assert codes[:2] == [302, 302] and 429 in codes[2:]
    assert len(mail.outbox) == 2


def test_the_stolen_account_form_shares_the_guest_ticket_limit_per_address(
    carol: Any, dave: Any, settings: Any
) -> None:
    # Each case mails the typed address; from many addresses (one each here) a sender must
    # still not fill carol's inbox. The security reports' budget (tickets/guestlimits.py), per
    # address and per email, as the ticket form and API count a stolen-account report.
    settings.RATE_LIMIT_DOCUMENT_UPLOAD = "100/h/ip"
    settings.RATE_LIMIT_GUEST_SECURITY_REPORT = "100/h/ip,2/h/email"
    codes = [
        Client(REMOTE_ADDR=f"10.6.6.{i}").post("/account-recovery/", form()).status_code for i in range(3)
    ]
    refused = Client(REMOTE_ADDR="10.6.6.7").post("/account-recovery/", form(email="CAROL@example.com"))
    assert codes == [302, 302, 429] and refused.status_code == 429 and refused["Retry-After"]
    assert RecoveryCase.objects.count() == 2
    # Another address is not affected, nor is a signed-in customer (not a guest).
    assert (
        Client(REMOTE_ADDR="10.6.6.8").post("/account-recovery/", form(email="x@example.com")).status_code
        == 302
    )
    signed_in = Client(REMOTE_ADDR="10.6.6.9")
    signed_in.force_login(carol)
    assert signed_in.post("/account-recovery/", form()).status_code == 302
    assert RecoveryCase.objects.count() == 4
