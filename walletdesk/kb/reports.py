"""Deflection figures for reports: did suggestions on the request form answer the question?

A visit that ended without a ticket is not a deflection: the customer may have given up, found
the answer elsewhere or closed the tab, and counting it flattered the help centre (it did until
#22). A deflection is only what a customer said: here there is no "this answered my question"
press on the suggestions yet, so the help centre's suggestions deflect nothing we can count;
the first answer's "this solved it" is counted by the ticket side (tickets/answers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from walletdesk.kb.models import DeflectionSession, SuggestionEvent


@dataclass(frozen=True, slots=True)
class DeflectionReport:
    sessions_shown: int  # visits to the request form in which suggestions appeared
    sessions_opened: int  # ... in which the customer opened at least one suggestion
    tickets_filed: int  # ... that still ended in a ticket
    opened_then_filed: int  # opened a suggestion and still filed
    left_without_filing: int  # shown suggestions and filed no ticket: NOT a deflection
    deflected: int  # the customer said a suggestion answered them (no such press yet: 0)
    rate: float  # deflected / sessions_shown (0.0 when nothing was shown)
    opened_rate: float  # opened and did not file / sessions_opened: how often reading was enough,
    # at best (it still includes giving up after reading)


def deflection_rate(start: datetime, end: datetime) -> DeflectionReport:
    """Figures for request-form visits that began in [start, end).

    Leaving without filing is reported as such (`left_without_filing`), never as deflected.
    """
    events = SuggestionEvent.objects.filter(session=OuterRef("pk"))
    sessions = DeflectionSession.objects.filter(created_at__gte=start, created_at__lt=end).annotate(
        shown=Exists(events.filter(kind=SuggestionEvent.Kind.SHOWN)),
        opened=Exists(events.filter(kind=SuggestionEvent.Kind.OPENED)),
    )
    shown = sessions.filter(shown=True)
    sessions_shown = shown.count()
    filed = shown.exclude(ticket_reference="").count()
    opened = sessions.filter(opened=True)
    sessions_opened = opened.count()
    opened_then_filed = opened.exclude(ticket_reference="").count()
    deflected = 0
    return DeflectionReport(
        sessions_shown=sessions_shown,
        sessions_opened=sessions_opened,
        tickets_filed=filed,
        opened_then_filed=opened_then_filed,
        left_without_filing=sessions_shown - filed,
        deflected=deflected,
        rate=deflected / sessions_shown if sessions_shown else 0.0,
        opened_rate=(sessions_opened - opened_then_filed) / sessions_opened if sessions_opened else 0.0,
    )
