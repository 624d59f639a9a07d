"""/metrics (Prometheus, token-protected) and the request id, through the real URL conf and
middleware: who may scrape, that the counts move after a request, a ticket and a chat socket,
that a route is counted under its pattern's name and never its id, and that a request's id comes
back on the response and rides into the tasks it enqueued."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.chat.sockets import customer, inline_sync_work
from tests.conftest import client_for
from walletdesk.core import logs

pytestmark = pytest.mark.django_db

TOKEN = "scrape-" + "x" * 40


@pytest.fixture
def token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(token: str = TOKEN) -> str:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (labels in any order, others allowed), 0 if absent."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, number = line.rpartition(" ")
        metric, _, raw = series.partition("{")
        if metric != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', raw))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(number)
    return total


def test_metrics_do_not_exist_without_a_configured_token(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(token: str, carol: Any, root: Any) -> None:
    missing = Client().get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert "walletdesk_" not in missing.content.decode()
    assert Client().get("/metrics", headers={"Authorization": f"Basic {token}"}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer " + token[:-1]}).status_code == 403
    assert Client().get("/metrics", headers={"Authorization": "Bearer " + token + "x"}).status_code == 403
    # A session is not a token: not a customer's, not even an admin's.
    assert client_for(carol).get("/metrics").status_code == 401
    assert client_for(root).get("/metrics").status_code == 401
    assert Client().post("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 405
    assert "walletdesk_http_requests_total" in scrape()


def test_requests_are_counted_by_route_name_never_by_path(
    token: str, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = scrape()
    assert Client().get("/healthz").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # counted once committed
        created = Client().post(
            "/api/v1/tickets",
            json.dumps({"subject": "Swap stuck", "body": "My swap is pending", "email": "g@example.com"}),
            content_type="application/json",
        )
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    ticket_page = client_for(alice).get(f"/agent/tickets/{reference}/")
    Client().get("/no/such/page/4242/")
    Client().generic("BREW", "/healthz")  # a made-up method is "other", not a new series
    after = scrape()
    assert value(after, "walletdesk_http_requests_total", route="healthz", method="GET", status="200") == (
        value(before, "walletdesk_http_requests_total", route="healthz", method="GET", status="200") + 1
    )
    api_route = [r for r in re.findall(r'route="([^"]+)"', after) if r.endswith("create_ticket")]
    assert api_route, after
    assert value(after, "walletdesk_http_requests_total", route=api_route[0], status="201") >= 1
    assert value(after, "walletdesk_http_request_duration_seconds_count", route="healthz") >= 1
    assert value(after, "walletdesk_inbound_messages_total", channel="api") == (
        value(before, "walletdesk_inbound_messages_total", channel="api") + 1
    )
    assert value(after, "walletdesk_http_requests_total", route="unmatched", status="404") >= 1
    # No id, reference, path or token is ever a label: only pattern names.
    assert ticket_page.status_code in (200, 302)
    assert reference not in after and "4242" not in after and "/agent/" not in after
    assert 'method="BREW"' not in after
    assert value(after, "walletdesk_http_requests_total", route="healthz", method="other", status="405") >= 1
    routes = set(re.findall(r'route="([^"]+)"', after))
    assert all("/" not in route or "<" in route for route in routes), routes


def test_queue_depth_and_lag_come_from_the_task_table(token: str, settings: Any) -> None:
    from walletdesk.tickets.tasks import notify_customers

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}
    }
    from walletdesk.core import queue

    queue.enqueue(notify_customers, ticket_ids=[1], kind="created")
    text = scrape()
    queue_name = notify_customers.queue_name
    assert value(text, "walletdesk_task_queue_depth", queue=queue_name) == 1
    assert value(text, "walletdesk_task_queue_lag_seconds", queue=queue_name) >= 0
    assert "walletdesk_tasks_running" in text


def test_web_form_tickets_count_as_web(token: str, django_capture_on_commit_callbacks: Any) -> None:
    before = scrape()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/new/",
            {
                "category": "other",
                "email": "form@example.com",
                "subject": "Hello",
                "body": "Where is my deposit?",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    after = scrape()
    assert value(after, "walletdesk_inbound_messages_total", channel="web") == (
        value(before, "walletdesk_inbound_messages_total", channel="web") + 1
    )
    assert (
        value(after, "walletdesk_http_requests_total", route="portal:new", method="POST", status="302") >= 1
    )


@pytest.mark.django_db(transaction=True)
def test_a_chat_socket_is_counted_while_open(token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    inline_sync_work(monkeypatch)
    started = Client().post(
        "/api/v1/chat/conversations",
        json.dumps({"name": "Ana", "language": "en"}),
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    from walletdesk.core import metrics

    # This process's own figures (another test run sharing the data directory may hold sockets
    # of its own), and the scrape showing them.
    def own_open() -> float:
        return float(metrics.SOCKETS.labels("chat_customer")._value.get())

    def own_opened() -> float:
        return float(metrics.SOCKETS_OPENED.labels("chat_customer")._value.get())

    before_open, before_opened = own_open(), own_opened()

    async def connect_then_close() -> tuple[float, str, float]:
        sock = customer(started.json()["ws_url"])
        connected, _ = await sock.connect()
        assert connected
        during, text = own_open(), await asyncio.to_thread(scrape)
        await sock.disconnect()
        return during, text, own_open()

    during, text, after = asyncio.run(connect_then_close())
    assert during == before_open + 1 and after == before_open
    assert value(text, "walletdesk_websocket_connections", socket="chat_customer") >= 1
    assert own_opened() == before_opened + 1


def test_request_id_round_trip_and_a_bad_one_is_replaced() -> None:
    given = "edge-7f3a9c2e-1b4d-4c1e-9e8f-0a1b2c3d4e5f"
    assert Client().get("/healthz", headers={"X-Request-ID": given})["X-Request-ID"] == given
    for bad in ("short", "x" * 200, "abc def ghi jkl", "line\nbreak-123456", "<script>alert(1)</script>", ""):
        returned = Client().get("/healthz", headers={"X-Request-ID": bad})["X-Request-ID"]
        assert returned != bad and re.fullmatch(r"[0-9a-f]{32}", returned)
    one = Client().get("/healthz")["X-Request-ID"]
    two = Client().get("/healthz")["X-Request-ID"]
    assert one != two


def test_request_id_is_stored_with_the_tasks_the_request_enqueued(settings: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}
    }
    rid = "trace-ticket-0001"
    response = Client().post(
        "/api/v1/tickets",
        json.dumps({"subject": "Withdrawal", "body": "My withdrawal is late", "email": "t@example.com"}),
        content_type="application/json",
        headers={"X-Request-ID": rid},
    )
    assert response.status_code == 201 and response["X-Request-ID"] == rid
    rows = list(DBTaskResult.objects.values_list("task_path", "args_kwargs"))
    paths = {path for path, stored in rows if stored.get("request_id") == rid}
    assert any(path.endswith("notify_customers") for path in paths), rows
    # Not a task argument: the task is called with its own kwargs only.
    assert all("request_id" not in stored["kwargs"] for _, stored in rows)
    # Outside a request nothing is bound, and nothing is stored.
    assert logs.request_id() == ""
