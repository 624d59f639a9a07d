"""The customer's "follow up" button once the promise has passed: POST only, rate-limited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket, TicketEvent
from walletdesk.tickets.tracking import make_token


@pytest.fixture
def late(db: None, carol: Any) -> Ticket:
    ticket = actions.create_ticket(NewTicket(subject="Fee", body="Why?", user=carol, category="fees"))
    Ticket.objects.filter(pk=ticket.pk).update(first_reply_due=timezone.now() - timedelta(minutes=5))
    ticket.refresh_from_db()
    return ticket


def test_button_shows_only_after_the_promise(db: None, carol: Any, as_user: Any) -> None:
    ticket = actions.create_ticket(NewTicket(subject="Fee", body="Why?", user=carol, category="fees"))
    page = as_user(carol).get(f"/requests/{ticket.reference}/").content.decode()
    assert 'data-testid="promise"' in page and 'data-testid="follow-up"' not in page
    Ticket.objects.filter(pk=ticket.pk).update(first_reply_due=timezone.now() - timedelta(minutes=1))
    page = as_user(carol).get(f"/requests/{ticket.reference}/").content.decode()
    assert 'data-testid="follow-up"' in page


def test_follow_up_raises_priority_once_per_cooldown(late: Ticket, carol: Any, as_user: Any) -> None:
    client = as_user(carol)
    url = f"/requests/{late.reference}/follow-up/"
    assert client.get(url).status_code == 405  # POST only
    assert client.post(url).status_code == 302
    late.refresh_from_db()
    assert late.priority == "high" and late.followed_up_at is not None
    assert client.post(url).status_code == 302  # refused politely: rate-limited
    late.refresh_from_db()
    assert late.priority == "high"
    assert TicketEvent.objects.filter(ticket=late, kind="customer_followed_up").count() == 1


def test_guest_follows_up_through_the_tracking_link(late: Ticket) -> None:
    token = make_token(late.reference, late.contact_id)
    page = Client().get(f"/track/{token}/").content.decode()
    assert f"/track/{token}/follow-up/" in page
    assert Client().post(f"/track/{token}/follow-up/").status_code == 302
    assert TicketEvent.objects.filter(ticket=late, kind="customer_followed_up").count() == 1


def test_follow_up_refused_to_wrong_personas(late: Ticket, dave: Any, as_user: Any) -> None:
    url = f"/requests/{late.reference}/follow-up/"
    assert as_user(dave).post(url).status_code == 404  # another customer
    anonymous = Client().post(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    other = actions.create_ticket(NewTicket(subject="x", body="y", user=dave, category="fees"))
    wrong_token = make_token(late.reference, other.contact_id)
    assert Client().post(f"/track/{wrong_token}/follow-up/").status_code == 404
    assert Client().post("/track/not-a-token/follow-up/").status_code == 403
    assert not TicketEvent.objects.filter(ticket=late, kind="customer_followed_up").exists()
