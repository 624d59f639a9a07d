"""Import a community phishing list so its domains count as impersonation.

    walletdesk manage import_phishing_lists config.json --source metamask
    walletdesk manage import_phishing_lists domains.txt --source my-team --format plain

The MetaMask eth-phishing-detect `config.json` format (allowlist, blocklist, fuzzylist) and a
plain one-domain-per-line list are read. Importing a source again replaces its earlier import.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from walletdesk import shield
from walletdesk.core.errors import Refused
from walletdesk.registry import actions


class Command(BaseCommand):
    help = "Import a phishing domain list (MetaMask config.json or one domain per line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the list file, or - for standard input")
        parser.add_argument("--source", required=True, help="a name for this list, e.g. metamask")
        parser.add_argument("--format", choices=["auto", "metamask", "plain"], default="auto")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"]
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        fmt = options["format"]
        if fmt == "auto":
            fmt = "metamask" if text.lstrip().startswith("{") else "plain"
        try:
            if fmt == "metamask":
                lists = shield.parse_phishing_config(text)
                counts = actions.import_phishing_list(
                    options["source"],
                    blocklist=lists.blocklist,
                    allowlist=lists.allowlist,
                    fuzzylist=lists.fuzzylist,
                )
            else:
                counts = actions.import_phishing_list(
                    options["source"], blocklist=shield.parse_domain_list(text)
                )
        except ValueError as exc:
            raise CommandError(f"{path} is not a valid {fmt} list: {exc}") from exc
        except Refused as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Imported {options['source']}: {counts['block']} blocked, {counts['allow']} allowed, "
            f"{counts['fuzzy']} fuzzy."
        )
