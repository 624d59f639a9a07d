"""Load the shipped starter articles and troubleshooters (the migration already does this once).

walletdesk kb_load_starter            # add what is missing, keep agents' edits
walletdesk kb_load_starter --overwrite  # reset shipped content to the files
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from walletdesk.kb import index
from walletdesk.kb.seed import load_starter, load_troubleshooters


class Command(BaseCommand):
    help = "Load the starter help-centre articles and troubleshooters."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--overwrite", action="store_true", help="Replace shipped content with the files."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            articles = load_starter(apps, overwrite=options["overwrite"])
            flows = load_troubleshooters(apps, overwrite=options["overwrite"])
        index.changed()
        self.stdout.write(f"{articles} articles and {flows} troubleshooters written.")
