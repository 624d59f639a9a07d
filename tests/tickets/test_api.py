"""The tickets API as a client sees it: create, list, read, reply, update, and refusals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from walletdesk.accounts.actions import issue_api_token
from walletdesk.tickets.models import Message, Status, Ticket, TicketEvent
from walletdesk.tickets.tracking import make_token, read_token

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, data: Any, **headers: str) -> Any:
    return client.post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def patch(client: Client, url: str, data: Any, **headers: str) -> Any:
    return client.patch(url, data=json.dumps(data), content_type="application/json", headers=headers)


def guest_ticket(client: Client | None = None, **overrides: Any) -> dict[str, Any]:
    body = {"email": "guest@example.com", "subject": "Cannot log in", "body": "It says my account is locked."}
    body.update(overrides)
    response = post(client or Client(), "/api/v1/tickets", body)
    assert response.status_code == 201, response.content
    return response.json()


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_api_token(user, 'test')}"}


def test_guest_create_returns_reference_status_and_tracking_url() -> None:
    data = guest_ticket()
    assert data["reference"].startswith("WD-")
    assert data["status"] == "new"
    assert "/track/" in data["tracking_url"]
    assert data["sla"]["first_reply_due"] is not None
    assert data["sla"]["state"] in {"ok", "at_risk"}
    ticket = Ticket.objects.get(reference=data["reference"])
    assert ticket.contact.email == "guest@example.com"
    assert ticket.messages.count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="created").exists()
    # The acknowledgement carries the reference and the tracking link.
    assert len(mail.outbox) == 1
    assert data["reference"] in mail.outbox[0].subject
    # The same link, though maybe signed a second later: tokens carry the time they were made.
    in_mail = re.search(r"/track/([^/\s]+)/", mail.outbox[0].body)
    in_api = re.search(r"/track/([^/\s]+)/", data["tracking_url"])
    assert in_mail and in_api
    assert (
        read_token(in_mail.group(1)) == read_token(in_api.group(1)) == (data["reference"], ticket.contact_id)
    )


def test_reference_is_not_the_primary_key_and_is_unguessable() -> None:
    refs = {guest_ticket(subject=f"s{i}")["reference"] for i in range(20)}
    assert len(refs) == 20
    for ref in refs:
        assert (
            str(Ticket.objects.get(reference=ref).pk) not in ref.split("-")[-1]
            or len(ref.split("-")[-1]) == 6
        )


def test_chinese_ticket_is_triaged_urgent_to_security_desk() -> None:
    data = guest_ticket(
        subject="我的账户被盗了", body="有人登录了我的账户，还转走了我的USDT，怎么办？", language="zh"
    )
    ticket = Ticket.objects.get(reference=data["reference"])
    assert ticket.category is not None and ticket.category.slug in {"account_stolen", "unauthorised_tx"}
    assert ticket.priority == "urgent"
    assert ticket.team is not None and ticket.team.slug == "security"
    assert ticket.language == "zh-hans"
    assert ticket.triage["category"] == ticket.category.slug


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"email": "a@example.com", "body": "x"}, "invalid_input", "subject"),
        ({"email": "a@example.com", "subject": "s" * 201, "body": "x"}, "invalid_input", "subject"),
        ({"email": "a@example.com", "subject": 12, "body": "x"}, "invalid_input", "subject"),
        ({"email": "not-an-email", "subject": "s", "body": "x"}, "invalid_input", "email"),
        (
            {"email": "a@example.com", "subject": "s", "body": "x", "category": "nope"},
            "unknown_category",
            "category",
        ),
        ({"subject": "s", "body": "x"}, "required", "email"),
        (
            {"email": "a@example.com", "subject": "s", "body": "x", "tx_hash": "0x" + "a" * 200},
            "invalid_input",
            "tx_hash",
        ),
    ],
)
def test_bad_create_is_a_clear_json_error_and_changes_nothing(
    payload: dict[str, Any], code: str, field: str
) -> None:
    response = post(Client(), "/api/v1/tickets", payload)
    assert response.status_code in (400, 422)
    body = response.json()
    assert body["code"] == code
    assert body["field"] == field
    assert body["message"]
    assert Ticket.objects.count() == 0
    assert Message.objects.count() == 0


def test_malformed_json_is_refused() -> None:
    response = Client().post("/api/v1/tickets", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "code" in response.json()
    assert Ticket.objects.count() == 0


def test_guest_tracks_and_replies_with_token_but_bad_token_is_refused() -> None:
    data = guest_ticket()
    ticket = Ticket.objects.get(reference=data["reference"])
    token = make_token(ticket.reference, ticket.contact_id)
    client = Client()
    got = client.get(f"/api/v1/tickets/{ticket.reference}", headers={"X-Tracking-Token": token})
    assert got.status_code == 200
    assert got.json()["messages"][0]["body"] == "It says my account is locked."

    bad = client.get(f"/api/v1/tickets/{ticket.reference}", headers={"X-Tracking-Token": token[:-3] + "abc"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_tracking_token"

    # A valid token for another ticket opens nothing here.
    other = Ticket.objects.get(reference=guest_ticket(email="other@example.com")["reference"])
    other_token = make_token(other.reference, other.contact_id)
    refused = client.get(f"/api/v1/tickets/{ticket.reference}", headers={"X-Tracking-Token": other_token})
    assert refused.status_code == 404

    replied = post(
        client,
        f"/api/v1/tickets/{ticket.reference}/messages",
        {"body": "Still locked."},
        **{"X-Tracking-Token": token},
    )
    assert replied.status_code == 201
    assert [m["body"] for m in replied.json()["messages"]][-1] == "Still locked."


def test_agent_lists_filters_replies_and_updates(alice: Any) -> None:
    ref = guest_ticket(category="login_locked")["reference"]
    guest_ticket(subject="Gas fee question", body="Why was the fee so high?", category="fees")
    client = Client()
    auth = bearer(alice)
    listing = client.get("/api/v1/tickets?category=login_locked", headers=auth)
    assert listing.status_code == 200
    assert [t["reference"] for t in listing.json()["items"]] == [ref]

    reply = post(client, f"/api/v1/tickets/{ref}/messages", {"body": "Use the unlock link we sent."}, **auth)
    assert reply.status_code == 201
    assert reply.json()["status"] == "open"

    note = post(client, f"/api/v1/tickets/{ref}/messages", {"body": "checked logs", "internal": True}, **auth)
    assert note.status_code == 201

    updated = patch(
        client,
        f"/api/v1/tickets/{ref}",
        {"status": "solved", "priority": "high", "assignee": "alice@desk.test"},
        **auth,
    )
    assert updated.status_code == 200, updated.content
    body = updated.json()
    assert (body["status"], body["priority"], body["assignee"]) == ("solved", "high", "alice@desk.test")
    kinds = list(TicketEvent.objects.filter(ticket__reference=ref).values_list("kind", flat=True))
    assert {"agent_replied", "internal_note", "status_changed", "priority_changed", "assigned"} <= set(kinds)

    # The guest never sees the internal note.
    ticket = Ticket.objects.get(reference=ref)
    seen = Client().get(
        f"/api/v1/tickets/{ref}", headers={"X-Tracking-Token": make_token(ref, ticket.contact_id)}
    )
    assert "checked logs" not in json.dumps(seen.json())


def test_search_finds_chinese_words_in_messages(alice: Any) -> None:
    ref = guest_ticket(subject="转账问题", body="我的转账一直显示等待确认，已经三个小时了", language="zh")[
        "reference"
    ]
    guest_ticket(subject="Other", body="Nothing to do with it")
    got = Client().get("/api/v1/tickets", {"q": "等待确认", "view": "all"}, headers=bearer(alice))
    assert [t["reference"] for t in got.json()["items"]] == [ref]


def test_pagination_is_by_cursor_and_bounded(alice: Any) -> None:
    refs = [guest_ticket(subject=f"t{i}")["reference"] for i in range(7)]
    client, auth = Client(), bearer(alice)
    first = client.get("/api/v1/tickets", {"limit": 3}, headers=auth).json()
    second = client.get("/api/v1/tickets", {"limit": 3, "cursor": first["next_cursor"]}, headers=auth).json()
    third = client.get("/api/v1/tickets", {"limit": 3, "cursor": second["next_cursor"]}, headers=auth).json()
    seen = [t["reference"] for page in (first, second, third) for t in page["items"]]
    assert seen == list(reversed(refs))
    assert third["next_cursor"] is None
    huge = client.get("/api/v1/tickets", {"limit": 100000}, headers=auth).json()
    assert len(huge["items"]) == 7


def test_customer_and_other_team_agent_are_refused(
    carol: Any, dave: Any, alice: Any, bob: Any, erin: Any, as_user: Any
) -> None:
    # Carol's stolen-account ticket goes to the restricted security desk.
    created = post(
        as_user(carol),
        "/api/v1/tickets",
        {"subject": "Account stolen", "body": "Someone took over my account", "category": "account_stolen"},
    )
    assert created.status_code == 201
    ref = created.json()["reference"]
    assert as_user(carol).get(f"/api/v1/tickets/{ref}").status_code == 200
    assert as_user(bob).get(f"/api/v1/tickets/{ref}").status_code == 200
    for outsider in (dave, alice, erin, None):
        response = as_user(outsider).get(f"/api/v1/tickets/{ref}")
        assert response.status_code == 404, outsider
        assert post(as_user(outsider), f"/api/v1/tickets/{ref}/messages", {"body": "hi"}).status_code == 404
        assert patch(as_user(outsider), f"/api/v1/tickets/{ref}", {"status": "closed"}).status_code == 404
    # Alice's token lists nothing of the security desk's.
    assert ref not in json.dumps(Client().get("/api/v1/tickets?view=all", headers=bearer(alice)).json())
    # Dave's own list does not contain Carol's ticket.
    assert ref not in json.dumps(as_user(dave).get("/api/v1/tickets").json())
    # Anonymous listing is refused.
    assert Client().get("/api/v1/tickets").status_code == 401
    # A bad bearer token is refused, not treated as anonymous.
    assert Client().get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_customer_may_close_but_not_otherwise_change(carol: Any, as_user: Any) -> None:
    ref = post(as_user(carol), "/api/v1/tickets", {"subject": "Hi", "body": "question"}).json()["reference"]
    refused = patch(as_user(carol), f"/api/v1/tickets/{ref}", {"priority": "urgent"})
    assert refused.status_code == 403
    assert Ticket.objects.get(reference=ref).priority != "urgent"
    closed = patch(as_user(carol), f"/api/v1/tickets/{ref}", {"status": "closed"})
    assert closed.status_code == 200
    assert Ticket.objects.get(reference=ref).status == Status.CLOSED
    again = post(as_user(carol), f"/api/v1/tickets/{ref}/messages", {"body": "one more"})
    assert again.status_code == 400
    assert again.json()["code"] == "ticket_closed"


def test_openapi_is_published() -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/tickets" in spec["paths"]
    assert "/api/v1/inapp/tickets" in spec["paths"]


def test_an_agent_gets_a_token_from_the_command_and_only_its_hash_is_kept(alice: Any, carol: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    from walletdesk.accounts.models import ApiToken

    out = StringIO()
    call_command("issue_api_token", "alice@desk.test", "--name", "crm", stdout=out)
    raw = out.getvalue().strip()
    assert Client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    assert not ApiToken.objects.filter(token_hash=raw).exists()
    with pytest.raises(CommandError):
        call_command("issue_api_token", "carol@example.com", "--name", "x")
