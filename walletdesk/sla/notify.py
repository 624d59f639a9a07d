"""Short mails to agents about a ticket (at risk, breached, a customer's follow-up).

Sent after commit, so a rolled-back SLA check or follow-up sends nothing. Timers and
follow-ups both mail agents; this module imports neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from walletdesk.tickets import channels
from walletdesk.tickets.models import Ticket


def lead(ticket: Ticket) -> list[Any]:
    """The ticket's team lead, if its team has one."""
    team_lead = ticket.team.lead if ticket.team_id and ticket.team else None
    return [team_lead] if team_lead is not None else []


def mail_agents(users: list[Any], subject: Callable[[], str], ticket: Ticket) -> None:
    """A short mail to agents; sent after commit so a rolled-back claim sends nothing.

    `subject` is a function, called in the first recipient's language: a subject made by the
    caller would be in the worker's language (English) whoever reads it."""
    to = [u.email for u in users if u is not None and u.email and u.is_active]
    if not to:
        return
    link = f"{settings.SITE_URL}/agent/tickets/{ticket.reference}/"
    language = getattr(users[0], "language", "en") or "en"

    transaction.on_commit(
        lambda: channels.mail_plainly(
            _in(language, subject),
            f"{ticket.reference} {ticket.subject}\n{link}\n",
            to,
            language=language,
            about=f"agents about {ticket.reference}",
        )
    )


def _in(language: str, text: Callable[[], str]) -> str:
    with translation.override(language):
        return text()
