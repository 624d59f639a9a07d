"""Log lines: a request id on every line, JSON in production, and only the fields we chose.

Request id. Each HTTP request gets one (`core.middleware.ObservabilityMiddleware`): the
caller's `X-Request-ID` when it is well formed (a proxy or load balancer that already made one,
so both logs share it), else a new random one; it goes back on the response. It is held in a
context variable, so every line logged while the request runs carries it. The ticket writer
thread (tickets.intake) binds the ids of the batch it writes, and `core.queue` stores the bound
id with every task row it enqueues; the worker binds it again while it runs that task
(`core.worker`). One ticket can so be followed from the request that opened it to the task that
mailed its acknowledgement.

Format. `LOG_FORMAT=json` (the default with `WALLETDESK_ENV=production`) writes one JSON object
per line (python-json-logger); `text` (the default otherwise) writes a short readable line for
the terminal of `walletdesk up`. Both carry the same fields. The JSON formatter writes a fixed
set of fields, never a record's other attributes: Django attaches the request object to its
error records and the SQL text with its parameters to `django.db.backends` records, and those
would reach the log line unscreened by the shield (which screens the message and traceback,
walletdesk.shield.logs). What a line says is its message, screened; nothing else rides along.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pythonjsonlogger.json import JsonFormatter


@dataclass(frozen=True, slots=True)
class Origin:
    """Who started the work running now: the request's id, and whether it came through the API."""

    request_id: str
    api: bool = False


_current: contextvars.ContextVar[Origin | None] = contextvars.ContextVar("walletdesk_origin", default=None)

# Bounded length and a charset that cannot break a log line, a header or a JSON string: the
# UUIDs and hex ids proxies make (nginx's $request_id, AWS's Root=1-…) fit; anything else is
# replaced, not trusted (a header can carry newlines or a megabyte of text).
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+/-]{7,127}")
HEADER = "X-Request-ID"


def new_request_id() -> str:
    return secrets.token_hex(16)


def accept_request_id(given: str | None) -> str:
    """The caller's id if well formed, else a new one."""
    if given and _WELL_FORMED.fullmatch(given):
        return given
    return new_request_id()


def current() -> Origin | None:
    return _current.get()


def request_id() -> str:
    origin = _current.get()
    return origin.request_id if origin is not None else ""


def bind(origin: Origin | None) -> contextvars.Token[Origin | None]:
    return _current.set(origin)


def unbind(token: contextvars.Token[Origin | None]) -> None:
    _current.reset(token)


@contextmanager
def bound(request_ids: Any) -> Iterator[None]:
    """Log (and enqueue) under these request ids: a batch written for several requests carries
    all of theirs, comma-separated (a request id holds no comma)."""
    ids = list(dict.fromkeys(i for i in request_ids if i))
    if not ids:
        yield
        return
    joined = ",".join(ids)
    origin = _current.get()
    if origin is not None and origin.request_id == joined:
        yield
        return
    token = _current.set(Origin(joined, api=origin.api if origin is not None else False))
    try:
        yield
    finally:
        _current.reset(token)


_SQL_LITERAL = re.compile(r"'(?:[^']|'')*'")


class SqlValuesFilter(logging.Filter):
    """On `django.db.backends` (which logs every statement when `DEBUG=true`): the statement
    keeps its shape, its quoted values and parameters go. Those values are message bodies,
    addresses and encrypted documents; a statement's shape is what a developer debugs."""

    def filter(self, record: logging.LogRecord) -> bool:
        sql = record.__dict__.get("sql")
        if isinstance(sql, str):
            shape = _SQL_LITERAL.sub("?", sql)
            duration = record.__dict__.get("duration")
            alias = record.__dict__.get("alias")
            record.msg = "(%.3f) %s; alias=%s"
            record.args = (duration if isinstance(duration, (int, float)) else 0.0, shape, alias)
            record.sql, record.params = shape, None
        elif record.args:  # a schema editor's line: the statement with its values
            try:
                record.msg, record.args = _SQL_LITERAL.sub("?", record.getMessage()), None
            except Exception:  # a broken format: say nothing rather than the values
                record.msg, record.args = "(unformattable statement)", None
            if "params" in record.__dict__:
                record.params = None
        return True


class RequestIdFilter(logging.Filter):
    """Puts the bound request id on the record (empty outside any request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        origin = _current.get()
        record.request_id = origin.request_id if origin is not None else ""
        return True


# The extra fields our own code passes (`extra={...}`) that a line may show; any other record
# attribute stays out of the line (see the module's docstring).
EXTRA_FIELDS = ("route", "method", "status", "duration_ms", "task", "task_id", "task_status", "queue")


class JsonLineFormatter(JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("%(levelname)s %(name)s %(message)s %(request_id)s %(process)d", *args, **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = None  # first in the line
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data["request_id"] = getattr(record, "request_id", "") or None
        log_data["process"] = record.process
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                log_data[name] = value
        for key in ("exc_info", "stack_info"):
            if message_dict.get(key):
                log_data[key] = message_dict[key]
        log_data["time"] = self.formatTime(record, self.datefmt)
        if log_data["request_id"] is None:
            del log_data["request_id"]

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        import datetime as dt

        moment = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextLineFormatter(logging.Formatter):
    """`2026-12-07 16:40:01 WARNING walletdesk.x: message [req 3f…]`: the same fields as the JSON
    line, short enough to read in the terminal of `walletdesk up`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", "")
        if not rid:
            return line
        first, sep, rest = line.partition("\n")  # after the message, before any traceback
        return f"{first} [req {rid}]{sep}{rest}"


def config(*, json_lines: bool, level: str) -> dict[str, Any]:
    """The LOGGING setting: one handler on the root logger, screened for secrets, with the id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "screen_secrets": {"()": "walletdesk.shield.logs.SecretFilter"},
            "request_id": {"()": "walletdesk.core.logs.RequestIdFilter"},
            "sql_values": {"()": "walletdesk.core.logs.SqlValuesFilter"},
        },
        "formatters": {
            "line": {
                "()": "walletdesk.core.logs.JsonLineFormatter"
                if json_lines
                else "walletdesk.core.logs.TextLineFormatter"
            }
        },
        "loggers": {
            name: {"filters": ["sql_values"]} for name in ("django.db.backends", "django.db.backends.schema")
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["screen_secrets", "request_id"],
                "formatter": "line",
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
