"""The admin: an endpoint's secret is shown once and never again; the delivery log shows what
happened, filters, and redelivers; nobody but an administrator sees any of it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.connectors.standin import StandIn
from tests.connectors.webhooks.conftest import make_endpoint, verified
from walletdesk.connectors.webhooks.models import WebhookDelivery, WebhookEndpoint
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket

pytestmark = pytest.mark.django_db

ADD = "/admin/webhooks/webhookendpoint/add/"
LOG = "/admin/webhooks/webhookdelivery/"


def _form(receiver: StandIn, **extra: Any) -> dict[str, Any]:
    return {
        "name": "CRM",
        "url": f"{receiver.base_url}/hook",
        "events": ["ticket.created", "sla.breached"],
        "active": "on",
        **extra,
    }


def test_the_secret_is_shown_once_on_create_and_never_again(
    root: Any, as_user: Any, receiver: StandIn
) -> None:
    client = as_user(root)
    response = client.post(ADD, _form(receiver), follow=True)
    assert response.redirect_chain[0][1] == 302
    # Shown on the page the save leads to, this once.
    (secret,) = re.findall(r"whsec_[0-9a-f]{64}", response.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret() == secret and endpoint.events == ["ticket.created", "sla.breached"]
    assert secret.encode() not in bytes(endpoint.secret_encrypted)
    page = client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    listing = client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert secret not in page and secret not in listing
    # Saving a change keeps the secret; asking for a new one replaces it, shown once.
    client.post(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/", _form(receiver, name="CRM 2"))
    assert WebhookEndpoint.objects.get().secret() == secret
    response = client.post(
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
        _form(receiver, new_secret="on"),
        follow=True,
    )
    newer = WebhookEndpoint.objects.get().secret()
    assert newer != secret and newer in response.content.decode()
    assert newer not in client.get("/admin/webhooks/webhookendpoint/").content.decode()


def test_the_admin_refuses_a_private_or_non_http_url_in_production(
    root: Any, as_user: Any, receiver: StandIn, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client = as_user(root)
    refused = {
        "http://127.0.0.1:9/hook": "not a public address",
        "http://169.254.169.254/": "not a public address",
        "ftp://example.com/": "only http:// and https://",
    }
    for url, reason in refused.items():
        response = client.post(ADD, _form(receiver, url=url))
        assert response.status_code == 200  # the form again, with the reason
        errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
        assert errors, url
        assert reason in errors[0], errors
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_attempts_filters_and_redelivers(
    root: Any, as_user: Any, receiver: StandIn, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.routes["/hook"] = [(500, "down"), (200, "ok")]
    make_endpoint(f"{receiver.base_url}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = actions.create_ticket(NewTicket(subject="Fee", body="Why?", email="li@example.com"))
    row = WebhookDelivery.objects.get()
    assert (row.state, row.attempts) == ("retry", 1)
    client = as_user(root)
    page = client.get(LOG, {"state__exact": "retry"}).content.decode()
    assert str(row.event_id) in page and "answered 500" in page
    assert str(row.event_id) not in client.get(LOG, {"state__exact": "delivered"}).content.decode()
    assert str(row.event_id) in client.get(LOG, {"event_type__exact": "ticket.created"}).content.decode()
    detail = client.get(f"{LOG}{row.pk}/change/").content.decode()
    assert ticket.reference in detail  # the payload, for whoever debugs the receiver
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOG, {"action": "redeliver", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_status_code) == ("delivered", 2, 200)
    ids = {verified(r)["id"] for r in receiver.requests_to("/hook")}
    assert ids == {str(row.event_id)}
    page = client.get(LOG, {"state__exact": "delivered"}).content.decode()
    assert str(row.event_id) in page


def test_only_administrators_see_the_delivery_log(
    carol: Any,
    alice: Any,
    root: Any,
    as_user: Any,
    receiver: StandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_endpoint(f"{receiver.base_url}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        actions.create_ticket(NewTicket(subject="Fee", body="Why?", email="li@example.com"))
    row = WebhookDelivery.objects.get()
    for path in (LOG, f"{LOG}{row.pk}/change/", "/admin/webhooks/webhookendpoint/", ADD):
        guest = as_user(None).get(path)
        assert guest.status_code == 302 and "/login/" in guest["Location"]
        customer = as_user(carol).get(path)  # not staff: sent to sign in as staff
        assert customer.status_code == 302 and "/login/" in customer["Location"]
        agent = as_user(alice).get(path)  # staff, but no permission on webhooks
        assert agent.status_code == 403
        assert as_user(root).get(path).status_code == 200
    # Nor can they redeliver.
    before = len(receiver.requests)
    as_user(alice).post(LOG, {"action": "redeliver", "_selected_action": [row.pk]})
    assert len(receiver.requests) == before


def test_the_command_adds_an_endpoint_and_prints_the_secret_once(receiver: StandIn, settings: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command(
        "webhook", "add", "--name", "CRM", "--url", f"{receiver.base_url}/hook",
        "--events", "ticket.created,sla.breached", stdout=out,
    )  # fmt: skip
    (secret,) = re.findall(r"whsec_[0-9a-f]{64}", out.getvalue())
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret() == secret and endpoint.events == ["ticket.created", "sla.breached"]
    listed = StringIO()
    call_command("webhook", "list", stdout=listed)
    assert "CRM" in listed.getvalue() and "whsec_" not in listed.getvalue()
    with pytest.raises(CommandError, match="Unknown events"):
        call_command("webhook", "add", "--url", f"{receiver.base_url}/hook", "--events", "ticket.deleted")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(CommandError, match="not a public address"):
        call_command("webhook", "add", "--url", "http://169.254.169.254/", "--events", "ticket.created")
    assert WebhookEndpoint.objects.count() == 1


def test_the_delivery_log_speaks_chinese(root: Any, as_user: Any) -> None:
    page = as_user(root).get(LOG, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # The title, and the filters by state and by event.
    assert "选择 Webhook 投递 来修改" in page and "等待重试" in page and "SLA 已超时" in page
    english = as_user(root).get(LOG, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Select webhook delivery to change" in english and "Waiting to retry" in english
