"""In-app contact API: the wallet app's backend files and follows tickets for its users."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from walletdesk.connectors.inapp.models import AppKey
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_key() -> str:
    return AppKey.issue("wallet-ios")[1]


def call(method: str, url: str, key: str | None, user: str | None, data: Any = None) -> Any:
    headers = {}
    if key is not None:
        headers["X-App-Key"] = key
    if user is not None:
        headers["X-App-User"] = user
    client = Client()
    if method == "get":
        return client.get(url, headers=headers)
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


NEW = {
    "message_id": "m-1",
    "subject": "交易一直在等待",
    "body": "转账三个小时了还没到账",
    "device": "iPhone 15",
    "os": "iOS 18.1",
    "app_version": "2.15.3",
    "locale": "zh-CN",
    "tx_hash": "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b",
}


def test_app_files_a_ticket_with_device_facts_and_gets_the_reference(app_key: str) -> None:
    response = call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW)
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert (ticket.channel, ticket.device, ticket.os, ticket.app_version) == (
        "inapp",
        "iPhone 15",
        "iOS 18.1",
        "2.15.3",
    )
    assert ticket.language == "zh-hans"
    assert ticket.tx_hash.startswith("0x88df")


def test_replayed_message_id_is_refused_and_changes_nothing(app_key: str) -> None:
    first = call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW)
    again = call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW)
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_message"
    assert again.json()["reference"] == first.json()["reference"]
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1


def test_another_app_users_message_id_is_neither_a_replay_nor_a_leak(app_key: str) -> None:
    """Was: any user of the app sending a message_id another had used got that user's
    reference; then, keyed per app only, one user could squat another's (predictable) ids and
    have their real messages refused as replays."""
    first = call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW).json()["reference"]
    other = call("post", "/api/v1/inapp/tickets", app_key, "user-43", NEW)
    assert other.status_code == 201  # user-43's own first message, not a replay of user-42's
    assert other.json()["reference"] != first and first not in other.content.decode()
    again = call("post", "/api/v1/inapp/tickets", app_key, "user-43", NEW)
    assert again.status_code == 409 and again.json()["reference"] == other.json()["reference"]
    assert first not in again.content.decode()
    # Replies too: user-43 replying with an id user-42 used is a new message, once.
    reply = {"message_id": "m-1r", "body": "again"}
    assert (
        call("post", f"/api/v1/inapp/tickets/{first}/messages", app_key, "user-42", reply).status_code == 201
    )
    mine = other.json()["reference"]
    assert (
        call("post", f"/api/v1/inapp/tickets/{mine}/messages", app_key, "user-43", reply).status_code == 201
    )
    replayed = call("post", f"/api/v1/inapp/tickets/{mine}/messages", app_key, "user-43", reply)
    assert replayed.status_code == 409 and first not in replayed.content.decode()
    assert Message.objects.count() == 4


def test_user_lists_reads_and_replies_only_their_own(app_key: str) -> None:
    ref = call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW).json()["reference"]
    other = call("post", "/api/v1/inapp/tickets", app_key, "user-7", {**NEW, "message_id": "m-2"}).json()[
        "reference"
    ]
    listing = call("get", "/api/v1/inapp/tickets", app_key, "user-42").json()
    assert [t["reference"] for t in listing["items"]] == [ref]
    assert call("get", f"/api/v1/inapp/tickets/{ref}", app_key, "user-42").status_code == 200
    assert call("get", f"/api/v1/inapp/tickets/{other}", app_key, "user-42").status_code == 404
    reply = call(
        "post",
        f"/api/v1/inapp/tickets/{ref}/messages",
        app_key,
        "user-42",
        {"message_id": "m-3", "body": "还在等"},
    )
    assert reply.status_code == 201
    assert reply.json()["messages"][-1]["body"] == "还在等"
    replay = call(
        "post",
        f"/api/v1/inapp/tickets/{ref}/messages",
        app_key,
        "user-42",
        {"message_id": "m-3", "body": "还在等"},
    )
    assert replay.status_code == 409
    foreign = call(
        "post",
        f"/api/v1/inapp/tickets/{other}/messages",
        app_key,
        "user-42",
        {"message_id": "m-4", "body": "x"},
    )
    assert foreign.status_code == 404


def test_another_apps_key_sees_nothing_of_this_apps_users(app_key: str) -> None:
    ref = call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW).json()["reference"]
    other_key = AppKey.issue("wallet-android")[1]
    assert call("get", f"/api/v1/inapp/tickets/{ref}", other_key, "user-42").status_code == 404
    assert call("get", "/api/v1/inapp/tickets", other_key, "user-42").json()["items"] == []


@pytest.mark.parametrize(
    ("key", "user", "status"), [(None, "u", 401), ("wdapp_wrong", "u", 401), ("VALID", None, 400)]
)
def test_missing_or_bad_credentials(app_key: str, key: str | None, user: str | None, status: int) -> None:
    response = call("post", "/api/v1/inapp/tickets", app_key if key == "VALID" else key, user, NEW)
    assert response.status_code == status
    assert response.json()["code"] in {"not_authenticated", "app_user_required"}
    assert Ticket.objects.count() == 0


def test_revoked_key_is_refused(app_key: str) -> None:
    AppKey.objects.update(active=False)
    assert call("post", "/api/v1/inapp/tickets", app_key, "user-42", NEW).status_code == 401


def test_an_app_user_is_known_by_its_id_not_by_the_email_it_sends(app_key: str, carol: Any) -> None:
    """Was: an app user joined the contact of any email the app sent, and listed its tickets."""
    web = actions.create_ticket(NewTicket(subject="carol's own", body="b", user=carol))
    response = call("post", "/api/v1/inapp/tickets", app_key, "user-9", {**NEW, "email": "Carol@Example.com"})
    assert response.status_code == 201
    ticket = Ticket.objects.select_related("contact").get(reference=response.json()["reference"])
    assert ticket.contact_id != web.contact_id
    assert ticket.contact.user_id is None and ticket.contact.proof == ""
    listed = call("get", "/api/v1/inapp/tickets", app_key, "user-9").json()["items"]
    assert [t["reference"] for t in listed] == [ticket.reference]
    assert call("get", f"/api/v1/inapp/tickets/{web.reference}", app_key, "user-9").status_code == 404
    # The same user again: the same contact, found by the app's id.
    again = call("post", "/api/v1/inapp/tickets", app_key, "user-9", {**NEW, "message_id": "m-2"})
    assert Ticket.objects.get(reference=again.json()["reference"]).contact_id == ticket.contact_id


def test_an_app_that_vouches_for_emails_joins_its_user_to_the_account(carol: Any) -> None:
    _key, raw = AppKey.issue("wallet-android", vouches_for_email=True)
    web = actions.create_ticket(NewTicket(subject="web", body="b", user=carol))
    response = call("post", "/api/v1/inapp/tickets", raw, "u-1", {**NEW, "email": "carol@example.com"})
    ticket = Ticket.objects.select_related("contact").get(reference=response.json()["reference"])
    assert ticket.contact_id == web.contact_id and ticket.contact.user == carol
    listed = {t["reference"] for t in call("get", "/api/v1/inapp/tickets", raw, "u-1").json()["items"]}
    assert listed == {web.reference, ticket.reference}
