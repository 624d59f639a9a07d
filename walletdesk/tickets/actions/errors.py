"""What an action refuses, with a stable code for the API and a message for people.

`TicketError` is a `core.errors.Refused`, so the API renders it like any app's refusal.
"""

from __future__ import annotations

from walletdesk.core.errors import Refused


class TicketError(Refused):
    """A request the desk refuses, with a stable code for the API and a message for people."""

    status = 400


class StorageUnavailable(TicketError):
    """The file storage (disk or bucket) refused a write: nothing was filed, try again later."""

    status = 503


class DuplicateMessage(TicketError):
    status = 409


class InvalidInput(TicketError):
    """A value out of its format (a fact, an email holding a secret): the API's 422."""

    status = 422


class NotAllowed(TicketError):
    status = 403


class StaleTicket(TicketError):
    """The change was made from a version of the ticket that is no longer current.

    `extra`: `version` (the current one, to read again or resend with) and `changes`, what
    happened since, newest first: [{"who", "what", "at", "seconds_ago"}].
    """

    status = 409


class ReplyCollision(StaleTicket):
    """Someone replied to the customer after the agent opened the ticket: sending needs a
    confirmation (send again with the new version)."""


class AlreadyAnswered(TicketError):
    """A second (or replayed) press on a first answer: the first one stands."""

    status = 409
