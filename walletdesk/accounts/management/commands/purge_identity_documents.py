from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from walletdesk.accounts import actions


class Command(BaseCommand):
    help = "Delete identity documents of recovery cases closed more than DOCUMENT_RETENTION_DAYS ago."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = actions.purge_expired_documents()
        self.stdout.write(f"{removed} document(s) deleted.")
