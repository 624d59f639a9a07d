"""TOTP enrolment and sign-in, recovery codes, generic failure, agents required to enrol."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client

from tests.accounts.conftest import PASSWORD, login, totp_code
from walletdesk.accounts.models import LoginEvent
from walletdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def reauthenticate(client: Client) -> None:
    # allauth asks for the password again before 2FA settings change.
    response = client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert response.status_code == 302


def enrol(client: Client) -> str:
    from django.test import TestCase

    reauthenticate(client)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()  # the QR code
    secret = page.context["form"].secret
    # allauth sends `authenticator_added` on commit; the test transaction never commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def test_enrol_totp_then_sign_in_with_a_code(carol: Any) -> None:
    client = Client()
    assert login(client, "carol@example.com").status_code == 302
    secret = enrol(client)
    assert Authenticator.objects.filter(user=carol, type="totp").exists()
    # allauth keeps the secret encrypted with our keys, not in the clear.
    stored = Authenticator.objects.get(user=carol, type="totp").data["secret"]
    assert stored.startswith("fernet:") and secret not in stored
    assert AuditEntry.objects.filter(action="account.mfa_enabled", target_id=str(carol.pk)).exists()
    assert any("two-factor" in m.subject.lower() for m in mail.outbox)
    # Recovery codes were generated alongside.
    codes = Authenticator.objects.get(user=carol, type="recovery_codes").wrap().get_unused_codes()
    assert len(codes) == 10

    fresh = Client()
    step = login(fresh, "carol@example.com")
    assert step["Location"] == "/accounts/2fa/authenticate/"
    done = fresh.post("/accounts/2fa/authenticate/", {"code": totp_code(secret, 1)})
    assert done.status_code == 302 and done["Location"] != "/accounts/login/"
    assert fresh.get("/accounts/security/").status_code == 200


def test_wrong_code_gives_the_generic_message_and_counts_towards_lockout(carol: Any, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    login(client, "carol@example.com")
    enrol(client)
    attacker = Client(REMOTE_ADDR="10.6.6.6")
    login(attacker, "carol@example.com")
    wrong = attacker.post("/accounts/2fa/authenticate/", {"code": "000000"}, follow=True)
    page = wrong.content.decode()
    assert "The sign-in details you entered are not correct." in page
    assert "Incorrect code" not in page and "code" not in wrong.redirect_chain[-1][0]
    # The half-finished login was abandoned: the 2FA page needs the password again.
    assert attacker.get("/accounts/2fa/authenticate/").status_code == 302
    assert LoginEvent.objects.filter(user=carol, outcome="failed", detail="2fa").count() == 1
    # Wrong codes count like wrong passwords.
    login(attacker, "carol@example.com")
    attacker.post("/accounts/2fa/authenticate/", {"code": "000001"})
    login(attacker, "carol@example.com")
    locked = attacker.post("/accounts/2fa/authenticate/", {"code": "000002"})
    assert locked.status_code == 429 and "Sign-in paused" in locked.content.decode()


def test_recovery_code_signs_in_once(carol: Any) -> None:
    client = Client()
    login(client, "carol@example.com")
    enrol(client)
    code = Authenticator.objects.get(user=carol, type="recovery_codes").wrap().get_unused_codes()[0]
    first = Client()
    login(first, "carol@example.com")
    assert first.post("/accounts/2fa/authenticate/", {"code": code})["Location"] != "/accounts/login/"
    assert first.get("/accounts/security/").status_code == 200
    second = Client()
    login(second, "carol@example.com")
    second.post("/accounts/2fa/authenticate/", {"code": code})
    assert second.get("/accounts/security/").status_code == 302


def test_turning_totp_off_is_noticed(carol: Any) -> None:
    client = Client()
    login(client, "carol@example.com")
    enrol(client)
    mail.outbox.clear()
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=carol, type="totp").exists()
    assert AuditEntry.objects.filter(action="account.mfa_disabled").exists()
    assert any("turned off" in m.subject.lower() for m in mail.outbox)


def test_agents_without_2fa_are_sent_to_enrolment(
    alice: Any, carol: Any, as_user: Any, settings: Any
) -> None:
    settings.REQUIRE_AGENT_MFA = True
    response = as_user(alice).get("/agent/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/"
    # Customers are not affected, and once enrolled the agent gets in.
    assert as_user(carol).get("/accounts/security/").status_code == 200
    Authenticator.objects.create(user=alice, type="totp", data={"secret": "x"})
    assert as_user(alice).get("/agent/").status_code == 200
    settings.REQUIRE_AGENT_MFA = False
