"""MTA pipe: `manage.py ingest_email < message.eml` (Postfix: `| walletdesk manage ingest_email`).

Exit 0 whenever the mail is kept (stored, ignored, duplicate or quarantined); exit 75
(EX_TEMPFAIL, the MTA keeps the mail and retries) only when not even the quarantine could be
written.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Read one raw RFC 5322 message from stdin and ingest it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", help="Name of the Mailbox whose defaults apply (category, team).")

    def handle(self, *args: Any, **options: Any) -> None:
        from walletdesk.connectors.email import ingest
        from walletdesk.connectors.email.models import Mailbox

        raw = sys.stdin.buffer.read()
        mailbox = None
        if options.get("mailbox"):
            mailbox = Mailbox.objects.filter(name=options["mailbox"]).first()
        result = ingest(raw, mailbox, source="pipe")
        self.stdout.write(f"{result.outcome} {result.ticket_reference or '-'} {result.reason}".rstrip())
        if not result.kept:
            sys.exit(EX_TEMPFAIL)
