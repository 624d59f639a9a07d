"""Give an agent a bearer token for the API; the raw value is printed once and never stored.

walletdesk manage issue_api_token alice@example.com --name "crm sync"
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from walletdesk.accounts.actions import issue_api_token
from walletdesk.accounts.models import User


class Command(BaseCommand):
    help = "Issue an API token for an agent and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", required=True, help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with email {options['email']}.")
        if not user.is_staff:
            raise CommandError("API tokens are for agents; this user is not staff.")
        self.stdout.write(issue_api_token(user, options["name"]))
