"""The email channel: IMAP and pipe in, SMTP out.

The one public entry point for inbound mail::

    from walletdesk.connectors.email import ingest
    result = ingest(raw_bytes, mailbox=None)  # IngestResult(outcome, ticket_reference, reason)

The parser (`parse`, `charsets`, `quoting`, `loops`, `filenames`) is pure Python and imports
no Django; the rest is a Django app (label ``email_channel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .inbound import IngestResult
    from .models import Mailbox

__all__ = ["IngestResult", "ingest"]


def ingest(raw: bytes, mailbox: Mailbox | None = None, *, source: str = "pipe") -> IngestResult:
    """Store one raw RFC 5322 mail; never raises (see `inbound`)."""
    from .inbound import ingest as _ingest

    return _ingest(raw, mailbox, source=source)


def __getattr__(name: str) -> Any:
    if name == "IngestResult":
        from .inbound import IngestResult

        return IngestResult
    raise AttributeError(name)
