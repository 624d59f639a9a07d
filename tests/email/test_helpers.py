"""The poller's helper processes (core.helpers): mails drafted in a forked process are stored
as if drafted here, and a helper that dies costs no mail.

A helper is a separate process, so it only sees committed rows: these tests commit
(transactional_db) and run on PostgreSQL, since the SQLite test database lives in memory,
which no other process can open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from tests.conftest import need
from tests.email.test_ingest import PNG, make_mail
from walletdesk.connectors.email import inbound
from walletdesk.connectors.email.inbound import ingest_stream
from walletdesk.connectors.email.models import InboundEmail
from walletdesk.core import helpers
from walletdesk.tickets.models import Message, Ticket

POLLER = os.getpid()


@pytest.fixture
def helper(settings: Any, transactional_db: None) -> Iterator[None]:
    need(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://…)")
    settings.HELPER_PROCESSES = 1
    settings.EMAIL_INGEST_COMMIT_EVERY = 2
    helpers.discard(wait=True)  # fork after this test's patches
    yield
    helpers.discard(wait=True)  # the helper's connection must close before the test database goes


def _batches() -> list[list[bytes]]:
    return [
        [
            make_mail("a@example.cn", subject="忘记密码了", sender="a@example.cn"),
            make_mail(
                "b@example.cn", subject="App crashes on login", body="Crash on iOS 17", sender="b@example.cn"
            ),
            b"\x00\x01 not a mail",
        ],
        [
            # a reply, in a later batch, to a mail of the first one
            make_mail(
                "a2@example.cn",
                subject="Re: 忘记密码了",
                body="还是不行",
                sender="a@example.cn",
                in_reply_to="a@example.cn",
            ),
            make_mail(
                "c@example.cn",
                subject="转账截图",
                body="见附件 my seed is abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
                sender="c@example.cn",
                attachments=[("shot.png", PNG, "image/png")],
            ),
            make_mail("d@example.cn", subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
        ],
    ]


@pytest.mark.postgres
def test_mails_drafted_in_a_helper_are_stored_as_here(helper: None, monkeypatch: pytest.MonkeyPatch) -> None:
    drafted_by: list[int] = []
    draft, store = inbound._prepare_and_draft, inbound._store_chunk

    def tagged(raws: Any, mailbox: Any) -> Any:
        drafted = draft(raws, mailbox)
        for prepared, _draft in drafted:
            prepared.drafted_by = os.getpid()  # type: ignore[attr-defined]
        return drafted

    def storing(drafted: Any, mailbox: Any, source: str) -> Any:
        drafted_by.extend(prepared.drafted_by for prepared, _draft in drafted)
        return store(drafted, mailbox, source)

    monkeypatch.setattr(inbound, "_prepare_and_draft", tagged)
    monkeypatch.setattr(inbound, "_store_chunk", storing)
    batches = _batches()
    results = [[r.outcome for r in batch] for batch in ingest_stream(batches)]
    assert results == [["created", "created", "quarantined"], ["appended", "created", "ignored"]]

    # The first chunk (two mails) was drafted here, every later one in one other process.
    assert drafted_by[:2] == [POLLER, POLLER]
    assert len(set(drafted_by[2:])) == 1 and POLLER not in drafted_by[2:]
    tickets = {t.subject: t for t in Ticket.objects.all()}
    assert set(tickets) == {"忘记密码了", "App crashes on login", "转账截图"}
    assert tickets["忘记密码了"].triage["category"] == "forgot_password"  # drafted here
    # Drafted in the helper, and whole: triage, SLA, the shield, the attachment, the reply.
    screenshot = tickets["转账截图"]
    assert screenshot.triage["category"] and screenshot.first_reply_due is not None
    assert "secret-removed" in screenshot.tags
    first = screenshot.messages.get()
    assert "abandon abandon" not in first.body and first.attachments.count() == 1
    # The raw mail, encrypted in the helper, is kept byte for byte.
    log = InboundEmail.objects.get(key="c@example.cn")
    assert log.raw == batches[1][1] and batches[1][1] not in bytes(log.raw_encrypted)
    reply = Message.objects.get(external_id="a2@example.cn")
    assert reply.ticket == tickets["忘记密码了"] and reply.body == "还是不行"
    assert "还是" in Ticket.objects.get(pk=reply.ticket_id).search_text


@pytest.mark.postgres
def test_a_helper_that_dies_loses_no_mail(helper: None, monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    original = inbound._prepare_and_draft

    def dying(raws: Any, mailbox: Any) -> Any:
        if os.getpid() != POLLER:
            os._exit(1)  # the helper is killed mid-batch
        return original(raws, mailbox)

    monkeypatch.setattr(inbound, "_prepare_and_draft", dying)
    results = [[r.outcome for r in batch] for batch in ingest_stream(_batches())]
    assert results == [["created", "created", "quarantined"], ["appended", "created", "ignored"]]
    assert Ticket.objects.count() == 3
    assert any("drafting them here" in r.getMessage() for r in caplog.records)


def test_no_helper_inside_a_transaction_or_on_an_in_memory_database(settings: Any, db: None) -> None:
    settings.HELPER_PROCESSES = 1
    # Tests run in a transaction: a helper could not see its rows, so the poller works alone.
    assert transaction.get_connection().in_atomic_block
    assert helpers.pool() is None
    settings.HELPER_PROCESSES = 0
    assert helpers.pool() is None
