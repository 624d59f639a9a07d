"""A real `walletdesk up` (2 web processes and the task worker) in JSON logs at DEBUG: one ticket's
request id is seen on the worker's line for that ticket's task; /metrics adds up what every
process counted (the worker's task runs, the web processes' requests); and nothing the customer
wrote (a recovery phrase, a private key, the message) is on any line the processes wrote."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.test_observability import value
from tests.servers import Walletdesk

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
BODY = "My withdrawal vanished, note PRIVATE-E2E-6620"
TOKEN = "e2e-metrics-" + "k" * 40
RID = "e2e-trace-4b1f0c9a"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    env = {
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "METRICS_TOKEN": TOKEN,
        "WALLETDESK_ENV": "development",
    }
    with Walletdesk(tmp_path_factory.mktemp("observe"), workers=2, env=env) as running:
        yield running


def call(
    server: Walletdesk, path: str, *, data: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(f"{server.base_url}{path}", data=body, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def json_lines(log: str) -> list[dict[str, Any]]:
    out = []
    for line in log.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))  # every log line is one JSON object
    return out


def test_one_ticket_is_followed_from_request_to_task_and_metrics_add_up(server: Walletdesk) -> None:
    status, headers, body = call(
        server,
        "/api/v1/tickets",
        data={"subject": "Withdrawal", "body": f"{BODY} {PHRASE} {KEY}", "email": "e2e@example.com"},
        headers={"X-Request-ID": RID},
    )
    assert status == 201, body
    assert headers.get("x-request-id") == RID
    reference = json.loads(body)["reference"]

    deadline = time.monotonic() + 60
    task_lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not task_lines:
        task_lines = [
            line
            for line in json_lines(server.log())
            if line.get("logger") == "walletdesk.tasks"
            and RID in (line.get("request_id") or "").split(",")
            and line.get("task", "").endswith("notify_customers")
        ]
        time.sleep(0.3)
    assert task_lines, server.log()[-4000:]
    line = task_lines[0]
    assert line["task_status"] == "successful" and line["level"] == "INFO" and line["time"].endswith("Z")
    # The web process's access line carries the same id, and names the route, not the path.
    access = [
        entry
        for entry in json_lines(server.log())
        if entry.get("logger") == "walletdesk.request" and entry.get("request_id") == RID
    ]
    assert access and access[0]["status"] == 201 and access[0]["route"].endswith("create_ticket")
    assert access[0]["process"] != line["process"]  # two processes, one id

    # /metrics, from whichever web process answers: every process's counts added up.
    assert call(server, "/metrics")[0] == 401
    assert call(server, "/metrics", headers={"Authorization": "Bearer wrong"})[0] == 403
    status, headers, body = call(server, "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "no-store" in headers.get("cache-control", "")
    text = body.decode()
    assert value(text, "walletdesk_inbound_messages_total", channel="api") >= 1
    assert (
        value(
            text,
            "walletdesk_tasks_total",
            task="walletdesk.tickets.tasks.notify_customers",
            status="successful",
        )
        >= 1
    )
    assert value(text, "walletdesk_http_requests_total", status="201") >= 1
    assert value(text, "walletdesk_outbound_mail_total", kind="created", result="sent") >= 1
    assert "walletdesk_task_queue_depth" in text and reference not in text


def test_no_secret_or_body_on_any_line_the_processes_wrote(server: Walletdesk) -> None:
    status, _, body = call(
        server,
        "/api/v1/tickets",
        data={"subject": "Again", "body": f"{BODY} {PHRASE}", "email": "e2e2@example.com"},
    )
    assert status == 201, body
    # A 404 whose path holds a phrase: Django logs the path of every 404.
    call(server, "/help/" + PHRASE.replace(" ", "%20"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and '"walletdesk.tasks"' not in server.log():
        time.sleep(0.3)
    log = server.log()
    assert '"django.db.backends"' in log or '"walletdesk.tasks"' in log  # DEBUG lines were written
    for needle in ("legal winner thank", "sausage worth", KEY, KEY[2:], "PRIVATE-E2E-6620"):
        assert needle not in log, f"{needle!r} reached the log"
    json_lines(Path(server.log_path).read_text())  # every JSON line parses
