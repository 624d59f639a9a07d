"""Support metrics, aggregated in the database: one query per figure, never one per ticket.

Percentiles (median, p90) are read as the row at the right offset of the ordered durations
(nearest rank), which SQLite and PostgreSQL both answer with an index-free sort in the
database: two small queries per percentile, whatever the number of tickets. The per-agent
table ranks each agent's durations with a window function (ROW_NUMBER over the agent's
partition) and keeps only the median and p90 rows: one query per figure for all agents.

Every duration is wall-clock time (no business hours), like the SLA figures beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import access
from walletdesk.tickets.models import (
    Category,
    Channel,
    Team,
    Ticket,
    TicketEvent,
)


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
class AgentFigures:
    """One agent's row of the per-agent table (definitions in docs/architecture.md, "Reports")."""

    agent_id: int
    name: str = ""
    assigned: int = 0  # tickets created in the period, assigned to the agent now
    solved: int = 0  # of those, solved (or closed)
    first_reply: Durations = field(default_factory=Durations)  # tickets whose first reply they wrote
    resolution: Durations = field(default_factory=Durations)  # their solved tickets
    csat: tuple[int, int] = (0, 0)  # (good, answered) on their tickets, answered in the period
    breaches: int = 0  # their tickets replied to or solved after the SLA's due time

    @property
    def csat_rate(self) -> float | None:
        return Report.rate(self.csat)


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
    deflection: float | None = None  # first answers "this solved it" / tickets they could answer
    first_answers: tuple[int, int, int, int] = (0, 0, 0, 0)  # (eligible tickets, offered, solved, declined)
    agents: list[AgentFigures] = field(default_factory=list)

    @staticmethod
    def rate(pair: tuple[int, int]) -> float | None:
        return pair[0] / pair[1] if pair[1] else None


def visible_tickets(user: Any, team: Team | None) -> QuerySet[Ticket]:
    tickets = access.agent_tickets_to_count(user)
    return tickets.filter(team=team) if team is not None else tickets


class Elapsed(Func):
    """`end - start` as a duration. PostgreSQL subtracts the timestamps itself. On SQLite,
    Django's `end - start` calls a Python function per row (django_timestamp_diff parses both
    strings): at 100k tickets the reports' duration figures spent most of their time in it.
    Here SQLite's own date functions give the same integer microseconds (Django stores a
    datetime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC, and reads a duration as microseconds)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = DurationField()

    def __init__(self, end: str, start: str) -> None:
        super().__init__(F(end), F(start))

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        (end, end_params), (start, start_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )
        # Whole seconds from the text without its fraction (SQLite rounds a fraction to the
        # millisecond, so .9996 would count as the next second), then the microseconds.
        # unixepoch() (SQLite 3.38) is a quarter faster than strftime('%s').
        seconds = (
            "unixepoch(substr({0}, 1, 19))"
            if connection.Database.sqlite_version_info >= (3, 38)
            else "strftime('%%s', substr({0}, 1, 19))"
        )
        micros = "CAST(substr({0} || '.000000', 21, 6) AS INTEGER)"
        sql = (
            f"(({seconds.format(end)} - {seconds.format(start)}) * 1000000"
            f" + {micros.format(end)} - {micros.format(start)})"
        )
        return sql, (*end_params, *start_params, *end_params, *start_params)


def visible_surveys(user: Any, filters: Filters) -> QuerySet[CsatSurvey]:
    """Surveys answered in the period on tickets the reader may see (the rule of
    `visible_tickets`, read through the join from the answered_at index)."""
    surveys = access.agent_rows_to_count(
        CsatSurvey.objects.filter(answered_at__gte=filters.start_dt, answered_at__lt=filters.end_dt), user
    )
    return surveys.filter(ticket__team=filters.team) if filters.team is not None else surveys


def percentile(rows: QuerySet[Any], column: str, p: float, count: int) -> Any:
    if count == 0:
        return None
    index = min(count - 1, max(0, round(p * (count - 1))))
    return rows.order_by(column).values_list(column, flat=True)[index]


def durations(tickets: QuerySet[Ticket], start: str, end: str) -> Durations:
    rows = tickets.filter(**{f"{end}__isnull": False}).annotate(took=Elapsed(end, start))
    n = rows.count()
    return Durations(n, percentile(rows, "took", 0.5, n), percentile(rows, "took", 0.9, n))


def median_rank(n: int) -> int:
    """The 1-based nearest rank of the median among n ordered values (the lower one for an
    even n). Integer arithmetic, written again in SQL by `durations_by`."""
    return (n - 1) // 2 + 1


def p90_rank(n: int) -> int:
    """The 1-based nearest rank of the 90th percentile: round(0.9 * (n - 1)) + 1, halves up."""
    return (9 * (n - 1) + 5) // 10 + 1


def durations_by(rows: QuerySet[Ticket], group: str, start: str, end: str) -> dict[int, Durations]:
    """Count, median and p90 of `end - start` per value of `group` (an agent id), in one query.

    Each group's durations are numbered in order by a window function; the outer query keeps
    the median's and the p90's rows only, so at most two rows per agent leave the database."""
    took = Elapsed(end, start)
    ranked = (
        rows.filter(**{f"{end}__isnull": False, f"{group}__isnull": False})
        .annotate(
            took=took,
            rank=Window(RowNumber(), partition_by=[F(group)], order_by=[took.asc(), F("pk").asc()]),
            n=Window(Count("pk"), partition_by=[F(group)]),
        )
        .annotate(
            # median_rank and p90_rank in SQL: integer division on both databases.
            median_at=ExpressionWrapper((F("n") - 1) / 2 + 1, output_field=IntegerField()),
            p90_at=ExpressionWrapper((9 * (F("n") - 1) + 5) / 10 + 1, output_field=IntegerField()),
        )
        .filter(Q(rank=F("median_at")) | Q(rank=F("p90_at")))
        .values_list(group, "took", "rank", "n")
    )
    out: dict[int, Durations] = {}
    for agent, value, rank, n in ranked:
        got = out.setdefault(agent, Durations(count=n))
        if rank == median_rank(n):
            got.median = value
        if rank == p90_rank(n):
            got.p90 = value
    return out


def per_agent(period: QuerySet[Ticket], surveys: QuerySet[CsatSurvey]) -> list[AgentFigures]:
    """The per-agent table, in five queries whatever the number of agents and tickets.

    Only tickets the reader may see (`period`, `surveys`) are counted, so an agent outside a
    restricted team sees neither its tickets in anyone's figures nor a row made of them."""
    late = Q(first_reply_due__isnull=False, first_replied_at__gt=F("first_reply_due")) | Q(
        resolution_due__isnull=False, solved_at__gt=F("resolution_due")
    )
    rows: dict[int, AgentFigures] = {}

    def row(agent_id: int) -> AgentFigures:
        return rows.setdefault(agent_id, AgentFigures(agent_id=agent_id))

    for r in (
        period.filter(assignee__isnull=False)
        .values("assignee")
        .annotate(
            n=Count("pk"),
            solved=Count("pk", filter=Q(solved_at__isnull=False)),
            late=Count("pk", filter=late),
        )
        .order_by()
    ):
        figures = row(r["assignee"])
        figures.assigned, figures.solved, figures.breaches = r["n"], r["solved"], r["late"]
    # The agent whose reply set first_replied_at, stored by that reply (Ticket.first_replied_by):
    # a correlated look-up of every ticket's first agent message cost seconds at 1M tickets.
    for agent, d in durations_by(period, "first_replied_by", "created_at", "first_replied_at").items():
        row(agent).first_reply = d
    for agent, d in durations_by(period, "assignee", "created_at", "solved_at").items():
        row(agent).resolution = d
    for survey in (
        surveys.filter(ticket__assignee__isnull=False)
        .values("ticket__assignee")
        .annotate(good=Count("pk", filter=Q(rating="good")), answered=Count("pk", filter=~Q(rating="")))
        .order_by()
    ):
        if survey["answered"]:
            row(survey["ticket__assignee"]).csat = (survey["good"], survey["answered"])
    if rows:
        names = ("id", "display_name", "first_name", "last_name", "email", "username")
        for user in get_user_model().objects.filter(pk__in=list(rows)).only(*names):
            rows[user.pk].name = user.label
    return sorted(rows.values(), key=lambda f: (-f.assigned, -f.first_reply.count, f.name, f.agent_id))


def days(filters: Filters, counts: dict[date, int]) -> list[tuple[date, int]]:
    """Every day of the period with its count, the days without tickets as 0: a line over
    the whole period, not dots on the days that happened to have tickets."""
    span = (filters.end - filters.start).days + 1
    return [(day, counts.get(day, 0)) for day in (filters.start + timedelta(days=i) for i in range(span))]


def utc_offset_minutes(filters: Filters) -> int | None:
    """The current time zone's offset from UTC in minutes if it is the same all through the
    period (no daylight-saving change in it), else None."""
    tz = timezone.get_current_timezone()
    span = (filters.end - filters.start).days + 2
    offsets = {
        tz.utcoffset(datetime.combine(filters.start + timedelta(days=i), time.min)) for i in range(span)
    }
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return None if offset is None or offset % timedelta(minutes=1) else int(offset / timedelta(minutes=1))


def daily_counts(period: QuerySet[Ticket], filters: Filters) -> dict[date, int]:
    """Tickets per local day. Django's TruncDate on SQLite calls a Python function per row
    (it parses the string and converts the time zone: a third of a second per 40k tickets);
    when the zone's offset is fixed through the period, SQLite's own date(created_at, '+480
    minutes') gives the same day. PostgreSQL converts the zone itself."""
    minutes = utc_offset_minutes(filters) if connection.vendor == "sqlite" else None
    if minutes is None:
        by_day = period.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("pk")).order_by()
        return {r["day"]: r["n"] for r in by_day}
    # Without the fraction: SQLite rounds it to the millisecond, so 23:59:59.9996 would be
    # the next day.
    local_day = Func(
        F("created_at"),
        function="date",
        template=f"%(function)s(substr(%(expressions)s, 1, 19), '{minutes:+d} minutes')",
        output_field=CharField(),
    )
    by_text = period.annotate(day=local_day).values("day").annotate(n=Count("pk")).order_by()
    return {date.fromisoformat(r["day"]): r["n"] for r in by_text}


def backlog(tickets: QuerySet[Ticket], now: datetime) -> list[tuple[str, int]]:
    """Open tickets by age, in one query over the active tickets only (`ticket_due_idx`,
    which carries created_at): counting them among all tickets read the whole table."""
    from walletdesk.tickets.inbox import only_active

    edges = [("< 1 d", 0, 1), ("1-3 d", 1, 3), ("3-7 d", 3, 7), ("7-30 d", 7, 30), ("> 30 d", 30, None)]
    counts = {}
    for i, (_label, lo, hi) in enumerate(edges):
        window = Q(created_at__lte=now - timedelta(days=lo))
        if hi is not None:
            window &= Q(created_at__gt=now - timedelta(days=hi))
        counts[f"b{i}"] = Count("pk", filter=window)
    got = only_active(tickets).aggregate(**counts)
    return [(label, got[f"b{i}"]) for i, (label, _lo, _hi) in enumerate(edges)]


FIRST_ANSWER_CHANNELS = ("web", "inapp", "chat")


def first_answers(period: QuerySet[Ticket]) -> tuple[int, int, int, int]:
    """(tickets on the channels that offer a first answer, offered, "this solved it", "talk to a
    person") for the period's tickets, in one query. A deflection is only a customer's own
    "this solved it" (#22): a customer who left without a ticket may simply have given up."""
    events = TicketEvent.objects.filter(ticket=OuterRef("pk"))
    got = (
        period.filter(channel__in=FIRST_ANSWER_CHANNELS)
        .annotate(
            fa_offered=Exists(events.filter(kind="first_answer_offered")),
            fa_solved=Exists(events.filter(kind="first_answer_solved")),
            fa_declined=Exists(events.filter(kind="first_answer_declined")),
        )
        .aggregate(
            n=Count("pk"),
            offered=Count("pk", filter=Q(fa_offered=True)),
            solved=Count("pk", filter=Q(fa_solved=True)),
            declined=Count("pk", filter=Q(fa_declined=True)),
        )
    )
    return got["n"], got["offered"], got["solved"], got["declined"]


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
    report.daily = days(filters, daily_counts(period, filters))
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
    surveys = visible_surveys(user, filters)
    csat = surveys.aggregate(
        good=Count("pk", filter=Q(rating="good")), answered=Count("pk", filter=~Q(rating=""))
    )
    report.csat = (csat["good"], csat["answered"])
    report.first_answers = first_answers(period)
    eligible, _offered, solved, _declined = report.first_answers
    report.deflection = solved / eligible if eligible else None
    report.agents = per_agent(period, surveys)
    return report
