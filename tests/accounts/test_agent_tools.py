"""Agent account actions from the ticket sidebar: audited, POST only, right persona only."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client

from tests.accounts.conftest import PASSWORD, general_ticket, login, security_ticket
from walletdesk.core.models import AuditEntry

pytestmark = pytest.mark.django_db
REASON = "Customer reported account takeover on the phone"


def url(ticket: Any, action: str) -> str:
    return f"/agent/tickets/{ticket.reference}/account/{action}/"


def test_sidebar_shows_account_state_only_when_the_contact_has_an_account(
    carol: Any, bob: Any, as_user: Any
) -> None:
    ticket = security_ticket(carol)
    login(Client(REMOTE_ADDR="10.4.4.4"), "carol@example.com", "bad password here")
    page = as_user(bob).get(f"/agent/tickets/{ticket.reference}/")
    html = page.content.decode()
    assert 'data-testid="account-security"' in html
    summary = page.context["account_security"]
    assert summary["lock"].failures == 1 and not summary["lock"].locked and not summary["mfa_enabled"]
    assert summary["logins"][0].outcome == "failed"
    from walletdesk.tickets.actions import NewTicket, create_ticket

    guest = create_ticket(
        NewTicket(
            subject="Locked",
            body="Locked out, please help",
            email="guest@example.com",
            category="account_stolen",
        )
    )
    assert (
        'data-testid="account-security"'
        not in as_user(bob).get(f"/agent/tickets/{guest.reference}/").content.decode()
    )


def test_force_password_reset_ends_sessions_and_mails_a_link(carol: Any, bob: Any, as_user: Any) -> None:
    ticket = security_ticket(carol)
    device = Client()
    login(device, "carol@example.com")
    response = as_user(bob).post(url(ticket, "force-reset"), {"reset-reason": REASON})
    assert response.status_code == 302
    carol.refresh_from_db()
    assert not carol.has_usable_password()
    assert not UserSession.objects.filter(user=carol).exists()
    assert device.get("/accounts/security/").status_code == 302
    assert login(Client(), "carol@example.com", PASSWORD).status_code == 200  # old password is dead
    entry = AuditEntry.objects.get(action="account.password_reset_forced")
    assert entry.actor == bob and entry.reason == REASON
    body = mail.outbox[-1].body
    assert "/accounts/password/reset/key/" in body and "重置" not in body.split("---")[0]
    # The emailed link works once, and sets a new password.
    import re

    link = re.search(r"http://[^/\s]+(/accounts/password/reset/key/[^\s]+/)", body).group(1)
    client = Client()
    form = client.get(link, follow=True)
    assert (
        client.post(
            form.redirect_chain[-1][0],
            {"password1": "fresh lilac harbour 31", "password2": "fresh lilac harbour 31"},
        ).status_code
        == 302
    )
    assert login(Client(), "carol@example.com", "fresh lilac harbour 31").status_code == 302


def test_reset_2fa_requires_a_recorded_identity_check(carol: Any, bob: Any, as_user: Any) -> None:
    ticket = security_ticket(carol)
    Authenticator.objects.create(user=carol, type="totp", data={"secret": "x"})
    as_user(bob).post(url(ticket, "reset-2fa"), {"mfa-reason": REASON, "mfa-identity_check": ""})
    assert Authenticator.objects.filter(user=carol).exists()
    assert not AuditEntry.objects.filter(action="account.mfa_reset").exists()
    as_user(bob).post(
        url(ticket, "reset-2fa"),
        {"mfa-reason": REASON, "mfa-identity_check": "Passport matched the selfie and account email"},
    )
    assert not Authenticator.objects.filter(user=carol).exists()
    entry = AuditEntry.objects.get(action="account.mfa_reset")
    assert entry.actor == bob and entry.data["identity_check"].startswith("Passport matched")
    assert any("turned off" in m.subject.lower() for m in mail.outbox)


def test_agents_cannot_act_on_staff_accounts(alice: Any, erin: Any, as_user: Any) -> None:
    ticket = general_ticket(erin)
    as_user(alice).post(url(ticket, "force-reset"), {"reset-reason": REASON})
    erin.refresh_from_db()
    assert erin.has_usable_password()


@pytest.mark.parametrize(
    "action,field",
    [("unlock", "unlock-reason"), ("force-reset", "reset-reason"), ("reset-2fa", "mfa-reason")],
)
def test_account_actions_refuse_the_wrong_persona(
    action: str, field: str, carol: Any, dave: Any, alice: Any, bob: Any, erin: Any, as_user: Any
) -> None:
    ticket = security_ticket(carol)  # Security desk: restricted team, bob only
    # Sign everyone in first: a sign-in by carol herself would clear her axes record.
    anonymous, as_carol, as_dave, as_alice, as_erin, as_bob = (
        Client(),
        as_user(carol),
        as_user(dave),
        as_user(alice),
        as_user(erin),
        as_user(bob),
    )
    Authenticator.objects.create(user=carol, type="totp", data={"secret": "x"})
    AccessAttempt.objects.create(
        username="carol@example.com",
        ip_address="10.0.0.1",
        user_agent="x",
        failures_since_start=9,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/accounts/login/",
    )
    data = {field: REASON, "mfa-identity_check": "Checked passport against the case"}
    password = carol.password
    # Anonymous: sent to sign in. Customers (even the owner): forbidden. Agents outside the team: 404.
    assert anonymous.post(url(ticket, action), data).status_code == 302
    assert as_carol.post(url(ticket, action), data).status_code == 403
    assert as_dave.post(url(ticket, action), data).status_code == 403
    assert as_alice.post(url(ticket, action), data).status_code == 404
    assert as_erin.post(url(ticket, action), data).status_code == 404
    # GET never acts.
    assert as_bob.get(url(ticket, action)).status_code == 405
    carol.refresh_from_db()
    assert carol.password == password
    assert Authenticator.objects.filter(user=carol).exists()
    assert AccessAttempt.objects.filter(username="carol@example.com").exists()
    assert (
        not AuditEntry.objects.filter(action__startswith="account.")
        .exclude(action="account.new_device_login")
        .exists()
    )
    # The security desk agent may.
    assert as_bob.post(url(ticket, action), data).status_code == 302
    assert AuditEntry.objects.filter(action__startswith="account.", actor=bob).exists()
