"""Shared by the webhook tests: a local receiver (tests/connectors/standin.py), an endpoint
pointing at it, and the per-process endpoint copy forgotten around each test (an endpoint of
one test must not reach the next test's ticket creation)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.connectors.standin import Recorded, StandIn
from walletdesk.connectors.webhooks import signing

SECRET = "whsec_" + "5e" * 32
ALL_EVENTS = ["ticket.created", "message.added", "ticket.status_changed", "sla.breached"]


@pytest.fixture(autouse=True)
def _fresh_endpoints(settings: Any) -> Iterator[None]:
    from walletdesk.connectors.webhooks.events import forget_endpoints

    # The receiver listens on loopback, which production refuses (guard.py); tests allow it.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    forget_endpoints()
    yield
    forget_endpoints()


@pytest.fixture
def receiver() -> Iterator[StandIn]:
    with StandIn({"/hook": (200, {"ok": True})}) as server:
        yield server


def make_endpoint(url: str, events: list[str] | None = None, secret: str = SECRET) -> Any:
    from walletdesk.connectors.webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint(name="ops", url=url, events=events or ALL_EVENTS)
    endpoint.set_secret(secret)
    endpoint.save()
    return endpoint


@pytest.fixture
def endpoint(db: None, receiver: StandIn) -> Any:
    return make_endpoint(f"{receiver.base_url}/hook")


def verified(request: Recorded, secret: str = SECRET) -> dict[str, Any]:
    """The payload of a received webhook, after checking it as a receiver must."""
    assert signing.verify(secret, request.headers["x-walletdesk-signature"], request.body)
    payload = json.loads(request.body)
    assert request.headers["x-walletdesk-event"] == payload["type"]
    assert request.headers["x-walletdesk-delivery"] == payload["id"]
    return dict(payload)
