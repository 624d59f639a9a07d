"""Log records pass the shield too: no recovery phrase or key reaches a log line.

Log lines quote what came in: Django logs every 404's path ("Not Found: /…"), a server logs
request lines, an exception's message may repeat a header or a field. So every record's
message, once formatted with its arguments, is scanned (and, when it holds %-escapes or "+",
also its URL-decoded form, since "%20" separates nothing for the scanner), and so is the
traceback text. A record holding a secret is rewritten with placeholders before any handler
sees it.

It is installed as the record factory (`install()`), not as a filter on some handlers: servers
and libraries configure their own handlers (uvicorn does, after Django), and a factory sees
every record whatever handler writes it. Records are created only when their level is enabled,
so the cost is one scan per line actually logged.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from .scanner import scan

# Below this a line cannot hold a secret (twelve one-character Chinese words).
_MIN_CHARS = 12


def screen_line(text: str) -> str | None:
    """The line with secrets replaced, or None when it holds none."""
    if len(text) < _MIN_CHARS:
        return None
    result = scan(text)
    if result.findings:
        # Decoded too, in case the secret was spelled twice, once encoded.
        return screen_line(unquote_plus(result.redacted)) or unquote_plus(result.redacted)
    if "%" in text or "+" in text:
        decoded = unquote_plus(text)
        if decoded != text and scan(decoded).findings:
            return scan(decoded).redacted
    return None


def screen_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: the handler reports it as it always did
        return record
    screened = screen_line(message)
    if screened is not None:
        record.msg, record.args = screened, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = screen_line(text) or text
    if record.stack_info:
        record.stack_info = screen_line(record.stack_info) or record.stack_info
    return record


class SecretFilter(logging.Filter):
    """The same screening as a filter, for a handler configured outside this process's factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        screen_record(record)
        return True


_installed: Callable[..., logging.LogRecord] | None = None


def install() -> None:
    """Screen every log record this process creates (idempotent)."""
    global _installed
    current = logging.getLogRecordFactory()
    if current is _installed:
        return
    original = current

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return screen_record(original(*args, **kwargs))

    _installed = factory
    logging.setLogRecordFactory(factory)
