"""What an action refuses, with a stable code for the API and a message for people.

`TicketError` is a `core.errors.Refused`, so the API renders it like any app's refusal.
"""

from __future__ import annotations

from walletdesk.core.errors import Refused


class TicketError(Refused):
    """A request the desk refuses, with a stable code for the API and a message for people."""

    status = 400


class DuplicateMessage(TicketError):
    status = 409


class InvalidInput(TicketError):
    """A value out of its format (a fact, an email holding a secret): the API's 422."""

    status = 422


class NotAllowed(TicketError):
    status = 403
