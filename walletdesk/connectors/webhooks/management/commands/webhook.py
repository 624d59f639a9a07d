"""`walletdesk manage webhook add --name N --url URL --events a,b` (prints the secret once) and
`walletdesk manage webhook list`. The admin does the same and more (the delivery log)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from walletdesk.connectors.webhooks import guard
from walletdesk.connectors.webhooks.models import EventType, WebhookEndpoint, new_secret


class Command(BaseCommand):
    help = "Add or list outbound webhook endpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add an endpoint; its signing secret is printed once.")
        add.add_argument("--name", default="")
        add.add_argument("--url", required=True)
        add.add_argument(
            "--events",
            default=",".join(EventType.values),
            help=f"Comma-separated, from: {', '.join(EventType.values)} (default: all).",
        )
        sub.add_parser("list", help="List endpoints (never their secrets).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for e in WebhookEndpoint.objects.order_by("pk"):
                state = "active" if e.active else "inactive"
                self.stdout.write(f"{e.pk}\t{e.name}\t{e.url}\t{','.join(e.events)}\t{state}")
            return
        events = [e.strip() for e in options["events"].split(",") if e.strip()]
        unknown = sorted(set(events) - set(EventType.values))
        if unknown or not events:
            raise CommandError(f"Unknown events {unknown}; choose from {', '.join(EventType.values)}")
        url = options["url"]
        try:
            guard.check(url)
        except guard.RefusedURL as exc:
            raise CommandError(f"Refused URL: {exc}") from None
        secret = new_secret()
        endpoint = WebhookEndpoint(name=options["name"] or url[:120], url=url, events=events)
        endpoint.set_secret(secret)
        endpoint.full_clean()
        endpoint.save()
        self.stdout.write(f"Endpoint {endpoint.pk} added. Signing secret (shown once, keep it safe):")
        self.stdout.write(secret)
