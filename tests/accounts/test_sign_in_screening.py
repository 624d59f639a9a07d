"""A secret typed into the sign-in form or sent in a header is not stored by the account
machinery (axes' attempts and failure log, login history, allauth's sessions)."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client
from mnemonic import Mnemonic

PHRASE = Mnemonic("english").to_mnemonic(bytes(range(16)))
WORDS = " ".join(PHRASE.split()[:4])


def _dump(*querysets: Any) -> str:
    return "\n".join(str(list(qs.values())) for qs in querysets)


@pytest.mark.django_db
def test_a_phrase_typed_as_the_login_is_not_stored_by_axes(carol: Any) -> None:
    client = Client(HTTP_USER_AGENT=f"Mozilla/5.0 {PHRASE}")
    for login in (PHRASE, carol.email, carol.email):
        client.post(
            f"/accounts/login/?next=/{PHRASE.replace(' ', '+')}",
            {"login": login, "password": PHRASE},
        )
    assert AccessAttempt.objects.exists() or AccessFailureLog.objects.exists()
    stored = _dump(AccessAttempt.objects.all(), AccessFailureLog.objects.all())
    assert WORDS not in stored
    assert "mozilla" in stored.lower()  # the header was stored, screened


@pytest.mark.django_db
def test_a_phrase_in_the_user_agent_is_not_kept_with_the_session(carol: Any) -> None:
    from allauth.usersessions.models import UserSession

    from walletdesk.accounts.models import LoginEvent

    client = Client(HTTP_USER_AGENT=f"Mozilla/5.0 ({PHRASE})")
    response = client.post(
        "/accounts/login/", {"login": carol.email, "password": "correct horse battery staple 9"}
    )
    assert response.status_code == 302
    assert LoginEvent.objects.filter(user=carol).exists()
    stored = _dump(LoginEvent.objects.all(), UserSession.objects.all())
    assert WORDS not in stored
    assert "Mozilla/5.0" in stored
