"""Who a new chat belongs to (POST /api/v1/chat/conversations), tried as each kind of caller
and as an attacker: the wallet app with its key, a signed-in customer, a guest typing someone
else's email, a wrong key, a cross-site form, a flood from one address.

Personas: carol (signed-in customer), dave (another customer), the wallet app (an app key).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for
from walletdesk.connectors.inapp.models import AppKey
from walletdesk.tickets.models import ContactIdentity, Ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/chat/conversations"


def post(client: Client, payload: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(URL, json.dumps(payload or {}), content_type="application/json", **headers)


def test_the_wallet_apps_user_gets_the_chat_on_their_own_contact() -> None:
    _key, raw = AppKey.issue("wallet app")
    first = post(Client(), {"name": "Li"}, HTTP_X_APP_KEY=raw, HTTP_X_APP_USER="u-42")
    second = post(Client(), {}, HTTP_X_APP_KEY=raw, HTTP_X_APP_USER="u-42")
    other = post(Client(), {}, HTTP_X_APP_KEY=raw, HTTP_X_APP_USER="u-43")
    assert first.status_code == second.status_code == other.status_code == 201
    tickets = {r: Ticket.objects.get(reference=r.json()["reference"]) for r in (first, second, other)}
    assert tickets[first].contact_id == tickets[second].contact_id != tickets[other].contact_id
    assert ContactIdentity.objects.get(contact=tickets[first].contact).channel == "inapp"


def test_a_wrong_app_key_is_refused_not_treated_as_a_guest() -> None:
    response = post(Client(), {}, HTTP_X_APP_KEY="wdapp_forged", HTTP_X_APP_USER="u-42")
    assert response.status_code == 401
    assert not Ticket.objects.exists()


def test_a_signed_in_customer_needs_the_csrf_token(carol: Any) -> None:
    client = client_for(carol)
    client.handler.enforce_csrf_checks = True
    refused = post(client)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf"
    client.get("/chat/")  # the page sets the CSRF cookie, as the widget's page does
    token = client.cookies["csrftoken"].value
    accepted = post(client, {}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert Ticket.objects.get(reference=accepted.json()["reference"]).contact.user == carol


def test_a_guest_typing_someone_elses_email_never_reaches_their_account(carol: Any) -> None:
    response = post(Client(), {"email": carol.email, "name": "not carol"})
    assert response.status_code == 201
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert ticket.contact.user is None
    # Carol's list shows it only as a claim on her address, to confirm or ignore (as a guest
    # ticket with her email); it is not hers until she says she sent it.
    reference = response.json()["reference"]
    page = client_for(carol).get(reverse("portal:my_requests")).content.decode()
    assert f"/requests/{reference}/confirm/" in page


def test_bad_input_gets_a_clear_error() -> None:
    assert post(Client(), {"language": "klingon"}).json()["code"] == "invalid"
    assert post(Client(), {"email": "not an email"}).status_code in (400, 422)
    assert post(Client(), {"name": "x" * 121}).status_code in (400, 422)
    assert not Ticket.objects.exists()


def test_a_flood_of_guest_chats_from_one_address_is_limited(settings: Any) -> None:
    settings.RATE_LIMIT_GUEST_CHAT = "3/h/ip"
    codes = [post(Client()).status_code for _ in range(5)]
    assert codes == [201, 201, 201, 429, 429]


def test_a_phrase_in_the_name_or_subject_is_never_stored() -> None:
    phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    response = post(Client(), {"name": phrase, "subject": f"help {phrase}"})
    if response.status_code == 201:
        ticket = Ticket.objects.get(reference=response.json()["reference"])
        assert "sausage" not in ticket.subject and "sausage" not in ticket.contact.name
    else:
        assert response.status_code == 400
    assert not Ticket.objects.filter(subject__contains="sausage").exists()
