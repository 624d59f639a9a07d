"""Poll the active mailboxes: once (`--once`, for cron) or in a loop.

The worker started by `walletdesk up` polls by itself (the `poll_mailboxes` task re-enqueues
itself); this command is for running a dedicated poller or for trying a mailbox out.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Poll every active mailbox (IMAP) and ingest new mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Poll once and exit.")
        parser.add_argument("--interval", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        from walletdesk.connectors.email.models import Mailbox
        from walletdesk.connectors.email.poll import poll_mailbox

        interval = options["interval"] or settings.EMAIL_POLL_SECONDS
        while True:
            for mailbox in Mailbox.objects.filter(active=True):
                self.stdout.write(str(poll_mailbox(mailbox)))
            if options["once"]:
                return
            time.sleep(interval)
