"""Support metrics, aggregated in the database: one query per figure, never one per ticket.

Percentiles (median, p90) are read as the row at the right offset of the ordered durations
(nearest rank), which SQLite and PostgreSQL both answer with an index-free sort in the
database: two small queries per percentile, whatever the number of tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import access
from walletdesk.tickets.models import ACTIVE_STATUSES, Category, Channel, Team, Ticket


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    team: Team | None = None

    @property
    def start_dt(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_dt(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


@dataclass
class Durations:
    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None


@dataclass
class Report:
    filters: Filters
    total: int = 0
    by_channel: list[tuple[str, int]] = field(default_factory=list)
    by_category: list[tuple[str, int]] = field(default_factory=list)
    daily: list[tuple[date, int]] = field(default_factory=list)
    first_reply: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)
    first_reply_sla: tuple[int, int] = (0, 0)  # (within, measured)
    resolution_sla: tuple[int, int] = (0, 0)
    backlog: list[tuple[str, int]] = field(default_factory=list)
    csat: tuple[int, int] = (0, 0)  # (good, answered)
    deflection: float | None = None

    @staticmethod
    def rate(pair: tuple[int, int]) -> float | None:
        return pair[0] / pair[1] if pair[1] else None


def visible_tickets(user: Any, team: Team | None) -> QuerySet[Ticket]:
    tickets = access.agent_tickets_to_count(user)
    return tickets.filter(team=team) if team is not None else tickets


def percentile(rows: QuerySet[Any], column: str, p: float, count: int) -> Any:
    if count == 0:
        return None
    index = min(count - 1, max(0, round(p * (count - 1))))
    return rows.order_by(column).values_list(column, flat=True)[index]


def durations(tickets: QuerySet[Ticket], start: str, end: str) -> Durations:
    rows = tickets.filter(**{f"{end}__isnull": False}).annotate(
        took=ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    )
    n = rows.count()
    return Durations(n, percentile(rows, "took", 0.5, n), percentile(rows, "took", 0.9, n))


def backlog(tickets: QuerySet[Ticket], now: datetime) -> list[tuple[str, int]]:
    """Open tickets by age, in one query."""
    active = Q(status__in=ACTIVE_STATUSES)
    edges = [("< 1 d", 0, 1), ("1-3 d", 1, 3), ("3-7 d", 3, 7), ("7-30 d", 7, 30), ("> 30 d", 30, None)]
    counts = {}
    for i, (_label, lo, hi) in enumerate(edges):
        window = Q(created_at__lte=now - timedelta(days=lo))
        if hi is not None:
            window &= Q(created_at__gt=now - timedelta(days=hi))
        counts[f"b{i}"] = Count("pk", filter=active & window)
    got = tickets.aggregate(**counts)
    return [(label, got[f"b{i}"]) for i, (label, _lo, _hi) in enumerate(edges)]


def deflection_rate(start: datetime, end: datetime) -> float | None:
    """The help centre's deflection rate, if the knowledge base provides it."""
    try:
        from walletdesk.kb.reports import deflection_rate as kb_rate
    except ImportError:
        return None
    report = kb_rate(start, end)
    return report.rate if report.sessions_shown else None


def build(user: Any, filters: Filters) -> Report:
    now = timezone.now()
    scope = visible_tickets(user, filters.team)
    period = scope.filter(created_at__gte=filters.start_dt, created_at__lt=filters.end_dt)
    report = Report(filters=filters)
    channel_names = dict(Channel.choices)
    report.by_channel = [
        (str(channel_names.get(r["channel"], r["channel"])), r["n"])
        for r in period.values("channel").annotate(n=Count("pk")).order_by("-n", "channel")
    ]
    names = {c.pk: c.name for c in Category.objects.all()}
    report.by_category = [
        (names.get(r["category"], "—"), r["n"])
        for r in period.values("category").annotate(n=Count("pk")).order_by("-n", "category")
    ]
    report.total = sum(n for _, n in report.by_channel)
    report.daily = [
        (r["day"], r["n"])
        for r in period.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    ]
    report.first_reply = durations(period, "created_at", "first_replied_at")
    report.resolution = durations(period, "created_at", "solved_at")
    sla = period.aggregate(
        fr_n=Count("pk", filter=Q(first_replied_at__isnull=False, first_reply_due__isnull=False)),
        fr_ok=Count(
            "pk", filter=Q(first_replied_at__isnull=False, first_replied_at__lte=F("first_reply_due"))
        ),
        res_n=Count("pk", filter=Q(solved_at__isnull=False, resolution_due__isnull=False)),
        res_ok=Count("pk", filter=Q(solved_at__isnull=False, solved_at__lte=F("resolution_due"))),
    )
    report.first_reply_sla = (sla["fr_ok"], sla["fr_n"])
    report.resolution_sla = (sla["res_ok"], sla["res_n"])
    report.backlog = backlog(scope, now)
    surveys = CsatSurvey.objects.filter(
        ticket__in=scope.values("pk"), answered_at__gte=filters.start_dt, answered_at__lt=filters.end_dt
    ).aggregate(good=Count("pk", filter=Q(rating="good")), answered=Count("pk", filter=~Q(rating="")))
    report.csat = (surveys["good"], surveys["answered"])
    report.deflection = deflection_rate(filters.start_dt, filters.end_dt)
    return report
