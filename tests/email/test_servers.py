"""The shared test servers really serve: Dovecot over IMAP, aiosmtpd over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from tests.servers import dovecot_server, smtp_server
from walletdesk.connectors.email.parse import parse_mail

CHINESE_SUBJECT = "账户被锁定，请帮忙解锁"


def chinese_mail(message_id: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "李雷 <lilei@example.cn>"
    msg["To"] = "support@example.test"
    msg["Subject"] = CHINESE_SUBJECT
    msg["Message-ID"] = f"<{message_id}>"
    msg["Date"] = "Sat, 01 Jun 2024 15:04:05 +0800"
    msg.set_content("我的钱包账户被锁定了。\n")
    return msg.as_bytes()


@pytest.mark.imap
def test_dovecot_append_then_fetch_with_imap_tools(tmp_path: Path) -> None:
    users = {"support@example.test": "pw", "security@example.test": "pw2"}
    with dovecot_server(tmp_path, users=users) as imap:
        assert imap.host == "127.0.0.1" and imap.port > 0
        uid = imap.append(chinese_mail("first@example.cn"))
        assert uid == "1"
        imap.append(chinese_mail("other@example.cn"), user="security@example.test", folder="Archive")

        with imap.mailbox() as box:
            messages = list(box.fetch(mark_seen=False))
            assert [m.subject for m in messages] == [CHINESE_SUBJECT]
            assert messages[0].from_ == "lilei@example.cn"
            raw = messages[0].obj.as_bytes()
        # What the connector will do with it: our parser reads the fetched bytes the same way.
        parsed = parse_mail(raw)
        assert parsed.subject == CHINESE_SUBJECT and parsed.message_id == "first@example.cn"
        assert parsed.text == "我的钱包账户被锁定了。"

        # Users are separate mailboxes.
        with imap.mailbox("security@example.test", folder="Archive") as box:
            assert [m.subject for m in box.fetch()] == [CHINESE_SUBJECT]
        with imap.mailbox("security@example.test") as box:
            assert list(box.fetch()) == []
        port = imap.port
    # Stopped: nothing answers on the port any more.
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=1).close()


@pytest.mark.imap
def test_dovecot_rejects_a_wrong_password(tmp_path: Path) -> None:
    from imap_tools import MailBoxUnencrypted
    from imap_tools.errors import MailboxLoginError

    with dovecot_server(tmp_path) as imap, pytest.raises(MailboxLoginError):
        MailBoxUnencrypted(imap.host, imap.port).login("support@example.test", "wrong")


def test_smtp_server_captures_what_smtplib_sends() -> None:
    raw = chinese_mail("sent@example.test")
    with smtp_server() as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
            client.sendmail("support@example.test", ["customer@example.cn", "cc@example.org"], raw)
        (received,) = smtp.wait_for(1)
        assert received.mail_from == "support@example.test"
        assert received.rcpt_tos == ("customer@example.cn", "cc@example.org")
        parsed = parse_mail(received.data)
        assert parsed.subject == CHINESE_SUBJECT
        assert parsed.message_id == "sent@example.test"
        smtp.clear()
        assert smtp.messages == []


def test_smtp_server_wait_for_times_out() -> None:
    with smtp_server() as smtp, pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=0.2)
