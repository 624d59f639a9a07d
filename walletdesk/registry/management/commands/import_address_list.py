"""Import a scam-address list, so verdicts answer "scam" for its addresses and the chain monitor
flags transfers to them.

    walletdesk manage import_address_list FILE --source NAME

FILE is a CSV whose first column holds the address (``0x`` and 40 hex characters; a header
row, quotes, other columns, comments and blank lines are fine) or one address per line; ``-``
reads standard input. Importing a source again replaces its list in one transaction.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from walletdesk.core.errors import Refused
from walletdesk.registry import actions


class Command(BaseCommand):
    help = "Import a scam address list (CSV with the address in the first column, or one per line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the list file, or - for standard input")
        parser.add_argument("--source", required=True, help="the list's name, e.g. scamsniffer")

    def handle(self, *args: Any, **options: Any) -> None:
        path, source = options["path"], options["source"]
        verbose = options["verbosity"] >= 2
        started = time.perf_counter()

        def progress(stored: int) -> None:
            if verbose:  # one line per chunk, flushed: shows an import is alive (and where it is)
                self.stdout.write(f"{stored} addresses read…")
                self.stdout.flush()

        try:
            result = actions.import_address_list(source, _lines(path), progress=progress)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except Refused as exc:
            raise CommandError(exc.message) from exc
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Imported {result.source}: {result.count} addresses ({result.duplicates} duplicates), "
            f"{result.malformed} malformed lines, in {seconds:.1f} s."
        )
        if result.malformed_lines:
            shown = ", ".join(str(n) for n in result.malformed_lines)
            more = " …" if result.malformed > len(result.malformed_lines) else ""
            self.stderr.write(f"Malformed lines (skipped): {shown}{more}")


def _lines(path: str) -> Iterator[str]:
    # Undecodable bytes become a malformed line rather than stopping the import.
    if path == "-":
        yield from sys.stdin
        return
    with Path(path).open(encoding="utf-8", errors="replace", newline=None) as handle:
        yield from handle
