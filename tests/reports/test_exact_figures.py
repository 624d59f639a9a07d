"""The reports' durations and days are exact to the microsecond and the local day, on both
databases (SQLite reads them with its own date functions, PostgreSQL with its own)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from walletdesk.desk.reports import metrics
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket


def made_at(created: datetime, *, replied: datetime | None = None, solved: datetime | None = None) -> Ticket:
    t = actions.create_ticket(NewTicket(subject="s", body="b", email="c@example.com", category="fees"))
    Ticket.objects.filter(pk=t.pk).update(created_at=created, first_replied_at=replied, solved_at=solved)
    return t


def local(day_offset: int, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=day_offset), at))


def test_durations_keep_their_microseconds_across_a_second(db: None, root: Any) -> None:
    # 1.9995 s: read as whole seconds plus microseconds, never rounded into the next second.
    start = local(-1, time(10, 0, 0, 400))
    made_at(start, replied=start + timedelta(seconds=1, microseconds=999_500))
    made_at(start, solved=start + timedelta(days=2, seconds=59, microseconds=999_999))
    today = timezone.localdate()
    report = metrics.build(root, metrics.Filters(start=today - timedelta(days=2), end=today))
    assert report.first_reply.median == timedelta(seconds=1, microseconds=999_500)
    assert report.resolution.p90 == timedelta(days=2, seconds=59, microseconds=999_999)


def test_tickets_fall_on_their_local_day(db: None, root: Any) -> None:
    made_at(local(-2, time(23, 59, 59, 999_999)))
    made_at(local(-1, time(0, 0)))
    made_at(local(-1, time(0, 0, 1)))
    today = timezone.localdate()
    report = metrics.build(root, metrics.Filters(start=today - timedelta(days=2), end=today))
    assert report.daily == [
        (today - timedelta(days=2), 1),
        (today - timedelta(days=1), 2),
        (today, 0),
    ]
