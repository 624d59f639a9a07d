"""Against the real servers: Dovecot (IMAP in) and aiosmtpd (SMTP out).

A customer mails in, the poll creates a ticket and an acknowledgement goes out threaded; the
agent's reply goes out threaded; the customer's answer threads back. And a crash between
storing and flagging \\Seen loses nothing and duplicates nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.email.test_ingest import make_mail
from tests.servers import DovecotServer, SmtpServer, dovecot_server, smtp_server
from walletdesk.connectors.email import poll
from walletdesk.connectors.email.models import InboundEmail, Mailbox, OutboundEmail
from walletdesk.connectors.email.parse import parse_mail
from walletdesk.tickets import actions
from walletdesk.tickets.models import Status, Ticket

pytestmark = pytest.mark.imap


@pytest.fixture
def imap(tmp_path: Path) -> Iterator[DovecotServer]:
    with dovecot_server(tmp_path) as server:
        yield server


@pytest.fixture
def smtp(settings: Any) -> Iterator[SmtpServer]:
    with smtp_server() as server:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": server.host, "port": server.port, "timeout": 10},
            }
        }
        settings.DEFAULT_FROM_EMAIL = "Support <support@example.test>"
        yield server


def make_mailbox(imap: DovecotServer) -> Mailbox:
    box = Mailbox(
        name="support",
        address="support@example.test",
        host=imap.host,
        port=imap.port,
        security=Mailbox.Security.NONE,
        username=imap.default_user,
    )
    box.set_secret(imap.users[imap.default_user])
    box.save()
    return box


def unseen(imap: DovecotServer) -> list[str]:
    from imap_tools import AND

    with imap.mailbox() as box:
        return list(box.uids(AND(seen=False)))


def header(raw: bytes, name: str) -> str | None:
    from email import message_from_bytes

    value = message_from_bytes(raw)[name]
    return None if value is None else " ".join(str(value).split())


@pytest.mark.django_db
def test_full_round_trip(imap: DovecotServer, smtp: SmtpServer, alice: Any) -> None:
    mailbox = make_mailbox(imap)
    # The mailbox password is stored encrypted, never in clear.
    password = imap.users[imap.default_user]
    assert password.encode() not in bytes(mailbox.secret_encrypted)
    assert mailbox.get_secret() == password

    # 1. The customer writes in (Chinese, GBK-era client or not: parse handles it).
    imap.append(make_mail("first@example.cn"))
    report = poll.poll_mailbox(mailbox)
    assert report.outcomes == {"created": 1} and not report.error
    ticket = Ticket.objects.get()
    assert ticket.channel == "email" and ticket.language == "zh-hans"
    assert unseen(imap) == []  # flagged after the commit
    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None and mailbox.last_error == ""

    # 2. The acknowledgement goes out through SMTP, threaded and marked automatic.
    (ack,) = smtp.wait_for(1)
    assert ack.rcpt_tos == ("lilei@example.cn",)
    ack_mail = parse_mail(ack.data)
    assert f"[{ticket.reference}]" in ack_mail.subject
    assert ack_mail.in_reply_to == "first@example.cn"
    assert header(ack.data, "Auto-Submitted") == "auto-replied"
    ack_id = ack_mail.message_id
    assert ack_id and OutboundEmail.objects.get(kind="created").message_id_header == ack_id
    assert ticket.reference in ack_mail.text and "/track/" in ack_mail.text
    assert ack_mail.html is not None  # text and HTML parts

    # 3. The agent replies; the reply goes out threaded, not marked automatic.
    actions.add_agent_message(ticket, "您好，请使用解锁链接。", agent=alice)
    reply = smtp.wait_for(2)[1]
    reply_mail = parse_mail(reply.data)
    assert f"[{ticket.reference}]" in reply_mail.subject
    assert reply_mail.in_reply_to == "first@example.cn"
    assert "first@example.cn" in reply_mail.references and ack_id in reply_mail.references
    assert header(reply.data, "Auto-Submitted") is None
    assert "请使用解锁链接" in reply_mail.text
    reply_id = reply_mail.message_id
    assert reply_id

    # The agent marks it solved: the notice is automatic.
    actions.change_status(ticket, Status.SOLVED, actor=alice)
    notice = smtp.wait_for(3)[2]
    assert header(notice.data, "Auto-Submitted") == "auto-generated"

    # 4. The customer answers our reply: In-Reply-To is our Message-ID, the subject is new.
    imap.append(
        make_mail(
            "second@example.cn",
            subject="还是不行",
            body="还是不能登录。\n\n> 您好，请使用解锁链接。",
            in_reply_to=reply_id,
            references=f"<first@example.cn> <{reply_id}>",
        )
    )
    report = poll.poll_mailbox(mailbox)
    assert report.outcomes == {"appended": 1}
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # the reply reopened the solved ticket
    last = ticket.messages.filter(author_role="customer").last()
    assert last is not None and last.body == "还是不能登录。"  # quoted history stripped
    assert last.external_id == "second@example.cn"
    assert unseen(imap) == []


@pytest.mark.django_db
def test_poll_records_errors_in_mailbox_health(imap: DovecotServer, alice: Any) -> None:
    mailbox = make_mailbox(imap)
    mailbox.set_secret("wrong")
    mailbox.save()
    report = poll.poll_mailbox(mailbox)
    assert report.error
    mailbox.refresh_from_db()
    assert mailbox.last_error_at is not None and mailbox.last_error and not mailbox.healthy
    from django.test import Client

    assert Client().get("/healthz").status_code == 200  # liveness ignores the mail server
    agent = Client()
    agent.force_login(alice)
    ready = agent.get("/readyz")
    assert ready.status_code == 503  # readiness does not: mail is not coming in
    health = ready.json()
    assert health["checks"]["email"]["ok"] is False
    assert health["checks"]["email"]["mailboxes"][0]["name"] == "support"
    assert Client().get("/readyz").json() == {"status": "fail"}  # and names nothing to strangers


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_crash_between_commit_and_seen_flag_loses_and_duplicates_nothing(
    imap: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox = make_mailbox(imap)
    imap.append(make_mail("crash1@example.cn", subject="one"))
    imap.append(make_mail("crash2@example.cn", subject="two"))
    imap.append(b"\xff\xfe not a mail at all\r\n")  # a bad mail never stops the rest

    class Crash(BaseException):
        """Stands for the process dying: not an Exception, so nothing catches it."""

    def die(box: Any, uids: list[str]) -> None:
        raise Crash

    monkeypatch.setattr(poll, "mark_seen", die)
    with pytest.raises(Crash):
        poll.poll_mailbox(mailbox)
    # Committed, but not flagged: the server still offers all three mails.
    assert Ticket.objects.count() == 2
    assert len(unseen(imap)) == 3

    monkeypatch.undo()
    report = poll.poll_mailbox(mailbox)
    assert report.outcomes == {"duplicate": 3}, report
    assert Ticket.objects.count() == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["one", "two"]
    assert InboundEmail.objects.filter(outcome="quarantined").count() == 1
    assert InboundEmail.objects.count() == 3
    assert unseen(imap) == []
