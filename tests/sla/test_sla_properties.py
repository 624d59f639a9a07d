"""Properties of the SLA clock that must hold for any start, duration and calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from walletdesk.sla.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    calendar_with_public_holidays,
    due_after_pauses,
    parse_weekly_hours,
)

CALENDARS = {
    "shanghai_cn_holidays": calendar_with_public_holidays(("CN",), years=range(2024, 2028)),
    "london_split_and_night": BusinessCalendar(
        timezone="Europe/London",
        weekly_hours=parse_weekly_hours(
            {d: [("08:00", "12:30"), ("13:30", "17:00"), ("22:00", "02:00")] for d in range(6)}
        ),
    ),
    "new_york_weekends": BusinessCalendar(
        timezone="America/New_York",
        weekly_hours=parse_weekly_hours({5: [("10:00", "16:00")], 6: [("23:30", "01:30")]}),
    ),
    "always_open": BusinessCalendar(always_open=True),
}

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
# Hypothesis picks wall-clock times in each zone, including ones in DST gaps and folds.
zones = st.sampled_from(["Asia/Shanghai", "Europe/London", "America/New_York", "UTC"]).map(ZoneInfo)
starts = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 6, 30), timezones=zones)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300)).map(
    # whole seconds: what a real SLA policy holds
    lambda d: timedelta(seconds=int(d.total_seconds()))
)


@settings(max_examples=200, deadline=None)
@given(start=starts, duration=durations, cal=calendars)
def test_time_between_start_and_due_is_the_duration(
    start: datetime, duration: timedelta, cal: BusinessCalendar
) -> None:
    due = add_business_time(start, duration, cal)
    assert due.tzinfo is UTC
    assert due >= start
    assert business_time_between(start, due, cal) == duration


@settings(max_examples=150, deadline=None)
@given(start=starts, d1=durations, d2=durations, cal=calendars)
def test_due_time_is_monotonic_and_additive(
    start: datetime, d1: timedelta, d2: timedelta, cal: BusinessCalendar
) -> None:
    short, long = sorted((d1, d2))
    assert add_business_time(start, short, cal) <= add_business_time(start, long, cal)
    # Doing d1 then d2 is doing d1 + d2.
    assert add_business_time(add_business_time(start, d1, cal), d2, cal) == add_business_time(
        start, d1 + d2, cal
    )


@settings(max_examples=150, deadline=None)
@given(a=starts, b=starts, c=starts, cal=calendars)
def test_business_time_adds_up_and_never_exceeds_wall_time(
    a: datetime, b: datetime, c: datetime, cal: BusinessCalendar
) -> None:
    # In UTC: Python compares and subtracts datetimes sharing one tzinfo by wall clock, which
    # is wrong across a DST change.
    a, b, c = sorted(x.astimezone(UTC) for x in (a, b, c))
    ab, bc = business_time_between(a, b, cal), business_time_between(b, c, cal)
    assert ab + bc == business_time_between(a, c, cal)
    assert timedelta(0) <= ab <= b - a
    assert business_time_between(b, a, cal) == -ab


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    duration=durations,
    cal=calendars,
    pause_offsets=st.lists(
        st.tuples(st.integers(-48, 400), st.integers(0, 72)),  # hours after start, length in hours
        max_size=4,
    ),
)
def test_pauses_only_ever_push_the_due_time_later(
    start: datetime, duration: timedelta, cal: BusinessCalendar, pause_offsets: list[tuple[int, int]]
) -> None:
    pauses: list[tuple[datetime, datetime | None]] = [
        (start + timedelta(hours=o), start + timedelta(hours=o + n)) for o, n in pause_offsets
    ]
    due = due_after_pauses(start, duration, pauses, cal)
    assert due is not None
    assert due >= add_business_time(start, duration, cal)
    # The time the clock actually ran, pauses excluded, is the SLA duration.
    assert business_time_between(start, due, cal, pauses=pauses) == duration
