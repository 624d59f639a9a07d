"""The dependency direction holds: connectors import tickets, never the reverse."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "walletdesk"


def test_tickets_and_core_never_import_the_email_connector() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+walletdesk\.connectors", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("tickets", "core", "accounts", "kb", "shield")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_parser_stays_pure() -> None:
    for name in ("parse.py", "charsets.py", "quoting.py", "loops.py", "filenames.py"):
        source = (ROOT / "connectors" / "email" / name).read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(django|walletdesk)", source, re.MULTILINE), name


def test_the_email_sender_is_registered_for_tickets() -> None:
    from walletdesk.connectors.email.outbound import send_notification
    from walletdesk.tickets import channels

    assert channels._senders["email"] is send_notification
