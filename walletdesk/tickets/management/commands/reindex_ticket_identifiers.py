from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from walletdesk.tickets import actions
from walletdesk.tickets.actions.indexing import REINDEX_BATCH


class Command(BaseCommand):
    help = (
        "Add the identifier-search tokens (tx hash, wallet address, email, phone) to tickets stored "
        "before identifier search existed. Idempotent; batched by id; resume with --after."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--after", type=int, default=0, help="start after this ticket id (to resume)")
        parser.add_argument("--batch", type=int, default=REINDEX_BATCH, help="tickets per batch")

    def handle(self, *args: Any, **options: Any) -> None:
        after, seen, changed = options["after"], 0, 0
        while True:
            done = actions.reindex_identifiers(after, batch=options["batch"])
            if done.last_pk is None:
                break
            after, seen, changed = done.last_pk, seen + done.seen, changed + done.changed
            # Each batch is committed: an interrupted run resumes with --after at the last id shown.
            self.stdout.write(f"up to id {after}: {done.changed} of {done.seen} updated")
        self.stdout.write(f"done: {changed} of {seen} ticket(s) updated.")
