"""No secret, email body or identity document reaches a log line, even at DEBUG.

Real flows, every logger at DEBUG (SQL statements included, as `DEBUG=true` would log them): a
ticket through the web form and through the API, an inbound mail through the email connector, a
chat message, an identity document uploaded with a stolen-account case, and a task that fails in
the real worker. Every record any logger creates is captured and written through both of our
line formats; none may hold the recovery phrase, the private key, the mail's body or the
document's contents. (The real-process flow, the worker's stderr included, is in
tests/e2e/test_observability_up.py.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from tests.accounts.test_recovery import form
from tests.email.test_ingest import make_mail
from walletdesk.core import logs

pytestmark = pytest.mark.django_db

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
MAIL_BODY = "Grandmother's savings moved on Tuesday, reference PRIVATE-MAIL-7731, please help"
FORM_BODY = "My deposit of 4.2 ETH never arrived, note PRIVATE-FORM-5521"
API_BODY = "Swap refund missing, note PRIVATE-API-8812"
CHAT_BODY = "I sent it to the wrong address, note PRIVATE-CHAT-3390"
DOCUMENT = b"PASSPORT E12345678 DOE JOHN 1980-01-01 PRIVATE-DOC-4410"
NEEDLES = (
    "legal winner thank",
    "sausage worth useful",
    KEY,
    KEY[2:],
    "PRIVATE-MAIL-7731",
    "Grandmother's savings",
    "PRIVATE-FORM-5521",
    "PRIVATE-API-8812",
    "PRIVATE-CHAT-3390",
    "E12345678",
    "PRIVATE-DOC-4410",
)


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured(settings: Any) -> Iterator[Everything]:
    """Every record of every logger at DEBUG, SQL included, as our console handler filters it."""
    handler = Everything()
    root = logging.getLogger()
    saved = (
        root.level,
        {
            name: lg.level
            for name, lg in logging.root.manager.loggerDict.items()
            if isinstance(lg, logging.Logger)
        },
    )
    root.setLevel(logging.DEBUG)
    for lg in logging.root.manager.loggerDict.values():
        if isinstance(lg, logging.Logger):
            lg.setLevel(logging.NOTSET)
            lg.disabled = False
    root.addHandler(handler)
    connection.force_debug_cursor = True  # SQL with its parameters, as DEBUG=true logs it
    try:
        yield handler
    finally:
        connection.force_debug_cursor = False
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def lines(records: list[logging.LogRecord]) -> list[str]:
    """What each record becomes on a log line, in both formats, with the filters our handler runs."""
    id_filter = logs.RequestIdFilter()
    json_lines, text_lines = logs.JsonLineFormatter(), logs.TextLineFormatter()
    out = []
    for record in records:
        id_filter.filter(record)
        out += [json_lines.format(record), text_lines.format(record)]
    return out


def assert_clean(records: list[logging.LogRecord]) -> None:
    assert records, "nothing was logged: the capture is broken"
    for line in lines(records):
        for needle in NEEDLES:
            assert needle not in line, f"{needle!r} reached a log line: {line[:500]}"


def test_no_secret_body_or_document_reaches_a_log_line(
    captured: Everything, carol: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Web form
    response = Client().post(
        "/new/",
        {
            "category": "other",
            "email": "form@example.com",
            "subject": "Lost funds",
            "body": f"{FORM_BODY} {PHRASE}",
        },
    )
    assert response.status_code == 302
    # API
    response = Client().post(
        "/api/v1/tickets",
        json.dumps({"subject": "Refund", "body": f"{API_BODY} my key {KEY}", "email": "api@example.com"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    # Inbound mail through the email connector
    from walletdesk.connectors.email import ingest

    result = ingest(make_mail("leak-1@example.com", subject="Help", body=f"{MAIL_BODY}\n\n{PHRASE}\n{KEY}"))
    assert result.outcome == "created", result
    # Chat
    from walletdesk.chat import actions as chat

    started = Client().post(
        "/api/v1/chat/conversations",
        json.dumps({"name": "Ana", "language": "en"}),
        content_type="application/json",
    )
    assert started.status_code == 201
    from walletdesk.tickets.models import Ticket

    chat_ticket = Ticket.objects.get(reference=started.json()["reference"])
    chat.post_customer_message(chat_ticket.pk, "c-1", f"{CHAT_BODY} {PHRASE}")
    # Identity document with a stolen-account case
    picture = SimpleUploadedFile("front.jpg", form()["front"].read() + DOCUMENT, content_type="image/jpeg")
    response = Client().post(
        "/account-recovery/", form(front=picture, what_happened=f"Someone took my account {PHRASE}")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # A task that fails, in the real worker, with the request's ticket in its arguments
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}
    }
    response = Client().post(
        "/api/v1/tickets",
        json.dumps({"subject": "Again", "body": f"{API_BODY} {PHRASE}", "email": "api2@example.com"}),
        content_type="application/json",
    )
    assert response.status_code == 201

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the mail relay hung up")

    monkeypatch.setattr("walletdesk.tickets.channels.send_to_customers", explode)
    # The worker's own run_task (core.worker), on each waiting row; its claim loop would close
    # the test's connection on PostgreSQL (close_old_connections) mid-transaction.
    from django_tasks_db.models import DBTaskResult

    from walletdesk.core.worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="privacy-test",
        excluded_queue_names=[],
    )
    for row in DBTaskResult.objects.filter(status="READY"):
        row.claim(worker.worker_id)
        worker.run_task(row)

    assert DBTaskResult.objects.filter(status="FAILED").exists()
    names = {r.name for r in captured.records}
    assert "walletdesk.tasks" in names and "django.db.backends" in names, names
    failed = [r for r in captured.records if r.name == "walletdesk.tasks" and r.levelno >= logging.WARNING]
    assert failed and failed[0].getMessage().startswith("task ") and "failed" in failed[0].getMessage()
    assert_clean(captured.records)
