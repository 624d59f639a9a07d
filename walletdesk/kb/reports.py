"""Deflection figures for reports: did suggestions on the request form answer the question?"""

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
    deflected: int  # shown suggestions and filed no ticket
    rate: float  # deflected / sessions_shown (0.0 when nothing was shown)
    opened_rate: float  # opened and did not file / sessions_opened: the stricter figure


def deflection_rate(start: datetime, end: datetime) -> DeflectionReport:
    """Figures for request-form visits that began in [start, end).

    A visit that was shown suggestions and left without filing counts as deflected, even if
    the customer simply gave up; `opened_rate` counts only visits where an article was read,
    which is the more conservative number to quote.
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
    deflected = sessions_shown - filed
    return DeflectionReport(
        sessions_shown=sessions_shown,
        sessions_opened=sessions_opened,
        tickets_filed=filed,
        opened_then_filed=opened_then_filed,
        deflected=deflected,
        rate=deflected / sessions_shown if sessions_shown else 0.0,
        opened_rate=(sessions_opened - opened_then_filed) / sessions_opened if sessions_opened else 0.0,
    )
