"""The outbox: where mail goes in demo and development installs, instead of the terminal.

Django's console backend printed every mail as raw MIME (~200 lines for one bilingual
acknowledgement) over the demo logins. Here each mail is one `.eml` file under
`<data dir>/outbox/`, shared by the web processes and the task worker (they are separate
processes), one line on stderr says it was kept, and agents read the mails at `/agent/outbox/`
(desk/outbox_views.py). Production never uses it (settings send through SMTP there).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage as ParsedMail
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

BACKEND = "walletdesk.core.outbox.OutboxBackend"
# What a stored name looks like; anything else asked for (`../secret_key`) is not a mail.
_NAME = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{9}-[0-9a-f]{32}\.eml")
# The newest mails are what a person looks for; an install left running keeps the rest on disk.
LIST_LIMIT = 200


def directory() -> Path:
    return Path(settings.DATA_DIR) / "outbox"


def enabled() -> bool:
    """Mail of this install goes to the outbox (demo and development, without EMAIL_HOST)."""
    mailer = getattr(settings, "MAILERS", {}).get("default", {})
    return bool(mailer.get("BACKEND") == BACKEND and not settings.PRODUCTION)


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = directory()
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            # Names sort by when the mail was kept (to the nanosecond: several go out per second).
            now = time.time_ns()
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 1_000_000_000))
            name = f"{stamp}.{now % 1_000_000_000:09d}-{uuid.uuid4().hex}.eml"
            # Written aside and renamed: the page never lists half a mail.
            partial = folder / f".{name}.part"
            partial.write_bytes(message.message().as_bytes())
            os.replace(partial, folder / name)
            # One line where the MIME used to be, so a developer still sees mail happen.
            print(
                f"{time.strftime('%Y-%m-%d %H:%M:%S')} walletdesk: mail to {', '.join(message.to)} "
                f"kept in the outbox ({name})",
                file=sys.stderr,
                flush=True,
            )
        return len(email_messages)


@dataclass(frozen=True)
class Mail:
    name: str
    sent: datetime | None
    sender: str
    to: str
    subject: str
    text: str


def _text_of(parsed: ParsedMail) -> str:
    # The plain-text part only: an HTML part is never rendered in the desk (it is the
    # mail's own markup, and may carry what a customer typed).
    part = parsed.get_body(preferencelist=("plain",))
    if part is None:
        part = parsed.get_body(preferencelist=("html",))
        return "(HTML only)\n\n" + (part.get_content() if part is not None else "")
    content: Any = part.get_content()
    return str(content)


def _date(header: str) -> datetime | None:
    try:
        return parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        return None


def _read(path: Path, *, body: bool) -> Mail:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, ParsedMail)
    return Mail(
        name=path.name,
        sent=_date(str(parsed.get("Date", ""))),
        sender=str(parsed.get("From", "")),
        to=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "")),
        text=_text_of(parsed) if body else "",
    )


def mails(limit: int = LIST_LIMIT) -> list[Mail]:
    """The newest mails first (names sort by the time they were kept)."""
    folder = directory()
    if not folder.is_dir():
        return []
    names = sorted((p for p in folder.iterdir() if _NAME.fullmatch(p.name)), reverse=True)
    return [_read(path, body=False) for path in names[:limit]]


def mail(name: str) -> Mail | None:
    if not _NAME.fullmatch(name):
        return None
    path = directory() / name
    return _read(path, body=True) if path.is_file() else None
