"""The four events reach a real local receiver, signed, with what a receiver may see and nothing
more; a change that rolls back sends nothing; no endpoint costs ticket creation nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import transaction

from tests.connectors.standin import StandIn
from tests.connectors.webhooks.conftest import SECRET, make_endpoint, verified
from walletdesk.connectors.webhooks import events
from walletdesk.connectors.webhooks.models import WebhookDelivery
from walletdesk.sla import timers
from walletdesk.sla.models import SlaCheck
from walletdesk.tickets import actions, live
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def _new(email: str = "wang@example.com", body: str = "My transfer is stuck") -> NewTicket:
    return NewTicket(subject="Stuck transfer", body=body, email=email, category="fees")


@pytest.mark.django_db
def test_each_event_arrives_signed_once(
    endpoint: Any, receiver: StandIn, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = actions.create_ticket(_new())
    with django_capture_on_commit_callbacks(execute=True):
        actions.add_agent_message(ticket, "Checking it now.", agent=alice)  # public: message + new->open
    with django_capture_on_commit_callbacks(execute=True):
        actions.add_agent_message(ticket, "internal: looks like a fee issue", agent=alice, internal=True)
    timers.schedule(ticket.pk, ahead=10)
    breach = SlaCheck.objects.get(ticket=ticket, kind="resolution_breach", claimed_at__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        timers.run_check(breach.pk, now=breach.run_at)

    payloads = [verified(r) for r in receiver.requests_to("/hook")]
    kinds = [p["type"] for p in payloads]
    assert sorted(kinds) == sorted(
        ["ticket.created", "message.added", "ticket.status_changed", "sla.breached"]
    )
    by_type = {p["type"]: p for p in payloads}
    ticket.refresh_from_db()
    for payload in payloads:
        assert payload["data"]["ticket"]["reference"] == ticket.reference
        assert payload["data"]["ticket"]["channel"] == "web"
    created = by_type["ticket.created"]["data"]
    assert created["ticket"]["category"] == "fees" and created["ticket"]["team"]
    assert created["message"]["body"] == "My transfer is stuck"
    assert created["message"]["author_role"] == "customer"
    added = by_type["message.added"]["data"]["message"]
    assert added["body"] == "Checking it now." and added["author_role"] == "agent"
    status = by_type["ticket.status_changed"]["data"]
    assert (status["old_status"], status["new_status"]) == ("new", "open")
    sla = by_type["sla.breached"]["data"]
    assert sla["clock"] == "resolution" and sla["due_at"]
    raw = b"".join(r.body for r in receiver.requests_to("/hook"))
    # Never the customer's address, an internal note, or the tracking link.
    assert b"wang@example.com" not in raw
    assert b"fee issue" not in raw
    assert b"/track/" not in raw
    # Every delivery is logged as delivered, one attempt, and event ids are distinct.
    rows = list(WebhookDelivery.objects.all())
    assert len(rows) == 4 and {r.state for r in rows} == {"delivered"} and {r.attempts for r in rows} == {1}
    assert len({str(r.event_id) for r in rows}) == 4
    assert {str(r.event_id) for r in rows} == {p["id"] for p in payloads}


@pytest.mark.django_db
def test_a_customer_reply_that_reopens_is_a_status_change(
    endpoint: Any, receiver: StandIn, alice: Any, carol: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = actions.create_ticket(_new(email=carol.email))
    actions.add_agent_message(ticket, "Solved, I think.", agent=alice, new_status="solved")
    receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.add_customer_message(
            Ticket.objects.get(pk=ticket.pk), f"still stuck {PHRASE}", user=carol, channel="web"
        )
    payloads = {p["type"]: p for p in (verified(r) for r in receiver.requests_to("/hook"))}
    assert set(payloads) == {"message.added", "ticket.status_changed"}
    assert payloads["ticket.status_changed"]["data"]["old_status"] == "solved"
    assert payloads["ticket.status_changed"]["data"]["new_status"] == "open"
    # The body went through the shield before it was stored, so the phrase never leaves.
    body = payloads["message.added"]["data"]["message"]["body"]
    assert "still stuck" in body and "sausage" not in body


@pytest.mark.django_db
def test_an_endpoint_gets_only_the_events_it_subscribed(
    receiver: StandIn, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_endpoint(f"{receiver.base_url}/hook", ["message.added"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = actions.create_ticket(_new())
        actions.add_agent_message(ticket, "Hello", agent=alice)
    assert [verified(r)["type"] for r in receiver.requests_to("/hook")] == ["message.added"]


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_sends_nothing(endpoint: Any, receiver: StandIn, alice: Any) -> None:
    ticket = actions.create_ticket(_new())
    receiver.wait_for("/hook", 1)  # committed: its ticket.created went out
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.add_agent_message(ticket, "This reply is rolled back", agent=alice)
        raise RuntimeError("the request failed after the reply")
    time.sleep(0.3)
    assert [verified(r)["type"] for r in receiver.requests_to("/hook")] == ["ticket.created"]
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["ticket.created"]
    # The same reply committed is sent.
    actions.add_agent_message(ticket, "This reply is kept", agent=alice)
    got = [verified(r) for r in receiver.wait_for("/hook", 3)]
    assert {p["type"] for p in got} == {"ticket.created", "message.added", "ticket.status_changed"}


@pytest.mark.django_db
def test_the_secret_is_stored_encrypted(endpoint: Any) -> None:
    from walletdesk.connectors.webhooks.models import WebhookEndpoint

    stored = bytes(WebhookEndpoint.objects.get(pk=endpoint.pk).secret_encrypted)
    assert SECRET.encode() not in stored and stored
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret() == SECRET


@pytest.mark.django_db
def test_no_endpoint_costs_ticket_creation_no_query(
    receiver: StandIn, django_assert_num_queries: Any, alice: Any
) -> None:
    ticket = actions.create_ticket(_new())
    message = ticket.messages.first()
    change = live.Change(ticket, "created", message, None)
    events.on_ticket_change(change)  # the endpoint copy is read once per process and TTL
    with django_assert_num_queries(0):
        for _ in range(100):
            events.on_ticket_change(change)
    # An endpoint that wants only SLA breaches costs creation nothing either.
    make_endpoint(f"{receiver.base_url}/hook", ["sla.breached"])
    events.on_ticket_change(change)
    with django_assert_num_queries(0):
        events.on_ticket_change(change)
    assert not WebhookDelivery.objects.exists()
