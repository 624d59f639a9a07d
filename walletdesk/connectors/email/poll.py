"""IMAP in: fetch unseen mail, store it, and only then mark it seen.

The \\Seen flag is set after `ingest` returned, that is after the transaction that stored the
mail committed. A crash in between leaves the mail unseen; the next poll fetches it again and
ingest answers `duplicate` (idempotent on Message-ID or content hash), then flags it. Mail is
fetched with BODY.PEEK[] in batches, so fetching never sets \\Seen by itself and the exact
bytes (not a re-serialisation) are what we keep.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from .inbound import ingest_stream
from .models import Mailbox

logger = logging.getLogger(__name__)

_UID = re.compile(rb"UID (\d+)")


@dataclass
class PollReport:
    mailbox: str
    fetched: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def __str__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items())) or "nothing new"
        return f"{self.mailbox}: {counts}" + (f"; error: {self.error}" if self.error else "")


def connect(mailbox: Mailbox) -> Any:
    """A logged-in imap_tools mailbox on the configured folder."""
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    timeout = settings.EMAIL_IMAP_TIMEOUT
    kinds: dict[str, Callable[..., Any]] = {
        Mailbox.Security.SSL: MailBox,
        Mailbox.Security.STARTTLS: MailBoxStartTls,
        Mailbox.Security.NONE: MailBoxUnencrypted,
    }
    client = kinds[mailbox.security](mailbox.host, mailbox.port, timeout=timeout)
    return client.login(mailbox.username, mailbox.get_secret(), mailbox.folder)


def _fetch_raw(box: Any, uids: list[str]) -> Iterator[tuple[str, bytes]]:
    """(uid, exact raw bytes) for these UIDs, without setting \\Seen."""
    status, data = box.client.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise RuntimeError(f"FETCH failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = _UID.search(item[0])
            if match:
                yield match.group(1).decode(), bytes(item[1])


def mark_seen(box: Any, uids: list[str]) -> None:
    if uids:
        box.flag(uids, "\\Seen", True)


def poll_mailbox(mailbox: Mailbox, *, batch: int | None = None, limit: int | None = None) -> PollReport:
    """Fetch unseen mail in batches: store each batch, then flag what was stored."""
    from imap_tools import AND

    batch = batch or settings.EMAIL_IMAP_BATCH
    report = PollReport(mailbox.name)
    now = timezone.now()
    try:
        with connect(mailbox) as box:
            uids = list(box.uids(AND(seen=False)))
            if limit is not None:
                uids = uids[:limit]
            fetched_uids: deque[list[str]] = deque()

            def fetched_batches() -> Iterator[list[bytes]]:
                # Fetched lazily: ingest_stream takes the next batch while it stores this one.
                for start in range(0, len(uids), batch):
                    fetched = list(_fetch_raw(box, uids[start : start + batch]))
                    fetched_uids.append([uid for uid, _ in fetched])
                    yield [raw for _, raw in fetched]

            for results in ingest_stream(fetched_batches(), mailbox, source="imap"):
                done = []
                for uid, result in zip(fetched_uids.popleft(), results, strict=True):
                    report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
                    if result.kept:  # stored, ignored, duplicate or quarantined: all committed
                        done.append(uid)
                report.fetched += len(results)
                mark_seen(box, done)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"[:1000]
        logger.warning("polling %s failed: %s", mailbox.name, report.error)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=now,
            last_error_at=timezone.now(),
            last_error=report.error,
            last_fetched=report.fetched,
        )
        return report
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now, last_success_at=timezone.now(), last_fetched=report.fetched
    )
    return report


def due_mailboxes() -> list[Mailbox]:
    now = timezone.now()
    return [
        m
        for m in Mailbox.objects.filter(active=True).select_related("default_category", "default_team")
        if m.last_polled_at is None or m.last_polled_at + timedelta(seconds=m.poll_seconds) <= now
    ]


def poll_all() -> str:
    if not connection.in_atomic_block:  # a long-lived worker: drop a connection the server closed
        close_old_connections()
    reports = [poll_mailbox(m) for m in due_mailboxes()]
    return "; ".join(str(r) for r in reports) or "no mailbox due"
