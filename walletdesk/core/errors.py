"""A refusal every app can raise, and the shape the API answers it with.

It lives in core so that any app's router (the registry's verify endpoint, tickets, the
connectors) raises one type and `walletdesk.api` renders one body, `{"code", "message",
"field"}`, without an app importing another to share it.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Refused(Exception):
    """A request refused, with a stable code for the API and a message for people."""

    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
