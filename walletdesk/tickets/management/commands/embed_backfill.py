"""Embed what has no current vector: help-centre articles and solved tickets (#22).

    walletdesk manage embed_backfill              # both, in this process
    walletdesk manage embed_backfill --articles   # only articles
    walletdesk manage embed_backfill --tickets    # only solved tickets
    walletdesk manage embed_backfill --enqueue    # hand the work to the task worker instead

Run it once after installing or upgrading (the starter articles are loaded by a migration,
which does not run the model), and after a change of model (MODEL_ID). Idempotent: what is
already embedded with the current model is skipped, so it can be stopped and run again.
Cost on this 2-core machine: ~1 s of CPU per article, ~0.3 s per ticket.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from walletdesk.core import queue
from walletdesk.kb import actions as kb_actions
from walletdesk.kb.actions import EMBED_ARTICLE
from walletdesk.tickets.actions import vectors
from walletdesk.tickets.actions._helpers import EMBED_SOLVED_TICKET


class Command(BaseCommand):
    help = "Embed help-centre articles and solved tickets that have no current vector."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--articles", action="store_true", help="Only articles.")
        parser.add_argument("--tickets", action="store_true", help="Only solved tickets.")
        parser.add_argument("--enqueue", action="store_true", help="Enqueue tasks instead of running here.")

    def handle(self, *args: Any, **options: Any) -> None:
        both = not (options["articles"] or options["tickets"])
        started = time.monotonic()
        if both or options["articles"]:
            todo = kb_actions.articles_to_embed()
            for n, article_id in enumerate(todo, start=1):
                if options["enqueue"]:
                    queue.enqueue_named(EMBED_ARTICLE, article_id=article_id)
                else:
                    kb_actions.embed_article(article_id)
                    self.stdout.write(f"article {n}/{len(todo)}")
            self.stdout.write(f"articles: {len(todo)} {'enqueued' if options['enqueue'] else 'embedded'}")
        if both or options["tickets"]:
            pending = vectors.tickets_to_embed()
            for n, ticket_id in enumerate(pending, start=1):
                if options["enqueue"]:
                    queue.enqueue_named(EMBED_SOLVED_TICKET, ticket_id=ticket_id)
                else:
                    vectors.embed_solved_ticket(ticket_id)
                    if n % 50 == 0:
                        self.stdout.write(f"ticket {n}/{len(pending)}")
            self.stdout.write(
                f"solved tickets: {len(pending)} {'enqueued' if options['enqueue'] else 'embedded'}"
            )
        self.stdout.write(f"done in {time.monotonic() - started:.0f} s")
