"""SLA clock arithmetic on business calendars.

Pure: plain functions on plain data, no Django, no database. Every datetime that goes in
must be time-zone aware; every datetime that comes out is in UTC.

The model: a `BusinessCalendar` says, for each *local* date, which local intervals are
open. Business time is real elapsed time (as measured in UTC) that falls inside an open
interval. Measuring in UTC is what makes a 09:00-17:00 day still 8 h on the day the
clocks change, and an overnight 22:00-06:00 shift 7 h or 9 h on such a night, which is
how long the agents actually worked.

Rules for intervals:
- An interval ``(start, end)`` belongs to the day it starts on. If ``end <= start`` it
  ends on the next day (``22:00-06:00``; ``00:00-00:00`` is the whole day). So a Friday
  night shift runs into Saturday morning even when Saturday is closed, and a holiday
  cancels the shift that would *start* on it.
- Local times that do not exist (inside a spring-forward gap) are read with the offset in
  force before the change (PEP 495, fold=0); ambiguous ones (fall-back) as their first
  occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "WEEKDAYS_9_TO_6",
    "BusinessCalendar",
    "DayHours",
    "SlaState",
    "WeeklyHours",
    "add_business_time",
    "business_time_between",
    "calendar_with_public_holidays",
    "due_after_pauses",
    "parse_weekly_hours",
    "sla_state",
]

Interval = tuple[time, time]
DayHours = tuple[Interval, ...]
#: Opening hours for Monday (index 0) .. Sunday (index 6).
WeeklyHours = tuple[DayHours, DayHours, DayHours, DayHours, DayHours, DayHours, DayHours]
Pause = tuple[datetime, datetime | None]
Span = tuple[datetime, datetime]  # a half-open [start, end) in UTC
SlaState = Literal["ok", "at_risk", "breached", "paused"]

_NINE_TO_SIX: DayHours = ((time(9), time(18)),)
WEEKDAYS_9_TO_6: WeeklyHours = (_NINE_TO_SIX,) * 5 + ((), ())

_ZERO = timedelta(0)


def _parse_time(value: time | str) -> time:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"opening hours are local wall-clock times, got tz-aware {value!r}")
        return value
    return time.fromisoformat(value)


def parse_weekly_hours(
    hours: Mapping[int | str, Iterable[Sequence[time | str]]],
) -> WeeklyHours:
    """Build `WeeklyHours` from ``{weekday: [(start, end), ...]}``.

    Weekdays are ints 0 (Monday) .. 6 (Sunday) or their string forms, and intervals may be
    lists, as they come back from JSON; times are `datetime.time` or ``"HH:MM"``. Missing
    days are closed.
    """
    days: list[list[Interval]] = [[] for _ in range(7)]
    for key, intervals in hours.items():
        weekday = int(key)
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {key!r}")
        for interval in intervals:
            if len(interval) != 2:
                raise ValueError(f"an opening interval is (start, end), got {interval!r}")
            days[weekday].append((_parse_time(interval[0]), _parse_time(interval[1])))
    return tuple(tuple(sorted(d)) for d in days)  # type: ignore[return-value]


@dataclass(frozen=True)
class BusinessCalendar:
    """When the SLA clock runs.

    `holidays` are whole local dates off. `extra_workdays` are dates that are worked even
    though the weekly hours (or a holiday) say otherwise: China's official make-up working
    weekends (调休). They use `extra_workday_hours`, or when that is empty the hours of the
    first weekday that has any (normally Monday's). `always_open` ignores everything else
    and counts plain calendar time (24/7, for urgent security tickets).
    """

    timezone: str = "Asia/Shanghai"
    weekly_hours: WeeklyHours = WEEKDAYS_9_TO_6
    holidays: AbstractSet[date] = frozenset()
    extra_workdays: AbstractSet[date] = frozenset()
    extra_workday_hours: DayHours = ()
    always_open: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    # Local date -> its opening intervals in UTC (see _day_intervals_utc). A pure function of
    # the (immutable) calendar and the date, and every due time walks the same few days.
    _days_utc: dict[date, tuple[Span, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Validate early so a bad admin setting fails when saved, not when a ticket is due.
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        object.__setattr__(self, "_days_utc", {})
        if len(self.weekly_hours) != 7:
            raise ValueError(f"weekly_hours needs 7 days (Monday..Sunday), got {len(self.weekly_hours)}")
        # Frozen sets keep the calendar immutable and hashable whatever the caller passed.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        for day in (*self.weekly_hours, self.extra_workday_hours):
            for start, end in day:
                if not (isinstance(start, time) and isinstance(end, time)):
                    raise ValueError(f"opening interval must be two datetime.time, got {(start, end)!r}")

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def hours_on(self, day: date) -> DayHours:
        """Local opening intervals that start on `day`."""
        if day in self.extra_workdays:
            return self.extra_workday_hours or next((h for h in self.weekly_hours if h), ())
        if day in self.holidays:
            return ()
        return self.weekly_hours[day.weekday()]

    def _has_open_time_after(self, day: date) -> bool:
        """Whether any day >= `day` is open, so scanning forward terminates."""
        if any(self.weekly_hours):
            # Holidays are a finite set, so some later ordinary weekday is open.
            return True
        return any(d >= day and self.hours_on(d) for d in self.extra_workdays)


def calendar_with_public_holidays(
    country_codes: Sequence[str] = ("CN",),
    years: Iterable[int] | None = None,
    extra_days_off: Iterable[date] = (),
    *,
    timezone: str = "Asia/Shanghai",
    weekly_hours: WeeklyHours = WEEKDAYS_9_TO_6,
    extra_workdays: Iterable[date] = (),
    extra_workday_hours: DayHours = (),
    include_makeup_workdays: bool = True,
) -> BusinessCalendar:
    """A calendar whose days off are the public holidays of `country_codes` (``"CN"``,
    ``"HK"``, any code the `holidays` package knows) plus `extra_days_off`.

    With `include_makeup_workdays`, the official make-up working weekends that the
    package publishes (China's 调休 days, ``weekend_workdays``) become extra workdays, unless
    another selected country has a holiday that day. `years` defaults to last year through
    two years ahead; the package only knows make-up days for years already announced.
    """
    import holidays as holidays_pkg  # local import: only this helper needs the package

    if years is None:
        this_year = date.today().year
        years = range(this_year - 1, this_year + 3)
    year_list = list(years)
    days_off: set[date] = set(extra_days_off)
    workdays: set[date] = set(extra_workdays)
    for code in country_codes:
        country = holidays_pkg.country_holidays(code, years=year_list)
        days_off.update(country.keys())
        if include_makeup_workdays:
            workdays.update(d for d in getattr(country, "weekend_workdays", ()) if d.year in year_list)
    # A make-up day of one region can be a holiday of another: a day off wins then, unless
    # the caller named it as an extra workday explicitly.
    workdays = {d for d in workdays if d not in days_off or d in set(extra_workdays)}
    return BusinessCalendar(
        timezone=timezone,
        weekly_hours=weekly_hours,
        holidays=frozenset(days_off),
        extra_workdays=frozenset(workdays),
        extra_workday_hours=extra_workday_hours,
    )


# --- interval machinery ---------------------------------------------------------------


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got naive {value!r}")
    return value.astimezone(UTC)


def _local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


_DAYS_CACHED = 4096  # per calendar: about eleven years of dates


def _day_intervals_utc(cal: BusinessCalendar, day: date) -> tuple[Span, ...]:
    cached = cal._days_utc.get(day)
    if cached is None:
        if len(cal._days_utc) >= _DAYS_CACHED:
            cal._days_utc.clear()
        cached = cal._days_utc[day] = _compute_day_intervals_utc(cal, day)
    return cached


def _compute_day_intervals_utc(cal: BusinessCalendar, day: date) -> tuple[Span, ...]:
    out = []
    for start, end in cal.hours_on(day):
        end_day = day if end > start else day + timedelta(days=1)
        s = _local_to_utc(day, start, cal.zone)
        e = _local_to_utc(end_day, end, cal.zone)
        if e > s:  # a span wholly inside a DST gap can collapse; skip it
            out.append((s, e))
    out.sort()
    return tuple(out)


def _open_intervals(cal: BusinessCalendar, start: datetime) -> Iterator[Span]:
    """Merged, sorted open intervals in UTC, clipped to begin no earlier than `start`.

    Works one local day at a time, so adding 40 h of business time touches a few days, not
    thousands of minutes. Infinite when the calendar has open time; raises ValueError
    up front when it never opens again.
    """
    if cal.always_open:
        yield (start, datetime.max.replace(tzinfo=UTC))
        return
    # Begin a day early: an overnight interval from yesterday may still be open at `start`.
    day = start.astimezone(cal.zone).date() - timedelta(days=1)
    if not cal._has_open_time_after(day):
        raise ValueError(
            f"business calendar {cal.timezone!r} has no opening hours on or after {day}: "
            "every weekday is closed and no extra workday is left, so an SLA would never come due"
        )
    pending: Span | None = None
    while True:
        if not any(cal.weekly_hours) and not cal._has_open_time_after(day):
            # Only extra workdays were open and they are used up: nothing more will come.
            if pending is not None:
                yield pending
            raise ValueError(f"business calendar {cal.timezone!r} has no opening hours after {day}")
        for s, e in _day_intervals_utc(cal, day):
            if e <= start:
                continue
            s = max(s, start)
            if pending is None:
                pending = (s, e)
            elif s <= pending[1]:
                # Overlap or touch (an overnight shift running into the next day's hours).
                pending = (pending[0], max(pending[1], e))
            else:
                yield pending
                pending = (s, e)
        day += timedelta(days=1)


def _merge_pauses(pauses: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for s, e in sorted(pauses):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _minus_pauses(intervals: Iterator[Span], pauses: list[Span]) -> Iterator[Span]:
    """`intervals` with the (merged, sorted) `pauses` cut out."""
    i = 0
    for s, e in intervals:
        while s < e:
            while i < len(pauses) and pauses[i][1] <= s:
                i += 1
            if i == len(pauses) or pauses[i][0] >= e:
                yield (s, e)
                break
            ps, pe = pauses[i]
            if ps > s:
                yield (s, ps)
            s = pe


def _utc_pauses(pauses: Iterable[Pause], until: datetime | None = None) -> list[Span] | None:
    """Validated pauses in UTC; an open pause ends at `until`, or makes the result None."""
    out = []
    for ps, pe in pauses:
        s = _require_aware("pause start", ps)
        if pe is None:
            if until is None:
                return None
            e = until
        else:
            e = _require_aware("pause end", pe)
        if e < s:
            raise ValueError(f"pause ends before it starts: {ps!r} .. {pe!r}")
        out.append((s, e))
    return _merge_pauses(out)


def _add(start: datetime, duration: timedelta, cal: BusinessCalendar, pauses: list[Span]) -> datetime:
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration!r}")
    if duration == _ZERO:
        return start
    remaining = duration
    intervals = _open_intervals(cal, start)
    for s, e in _minus_pauses(intervals, pauses) if pauses else intervals:
        span = e - s
        if remaining <= span:
            return s + remaining
        remaining -= span
    raise AssertionError("unreachable: _open_intervals is infinite or raises")  # pragma: no cover


def _between(a: datetime, b: datetime, cal: BusinessCalendar, pauses: list[Span]) -> timedelta:
    if b <= a:
        return _ZERO
    if cal.always_open and not pauses:
        return b - a
    total = _ZERO
    for s, e in _minus_pauses(_open_intervals(cal, a), pauses):
        if s >= b:
            break
        total += min(e, b) - s
    return total


# --- public API -----------------------------------------------------------------------


def add_business_time(start: datetime, duration: timedelta, cal: BusinessCalendar) -> datetime:
    """The UTC moment when `duration` of business time has passed since `start`.

    If `start` is outside opening hours the clock starts at the next opening. A zero
    duration returns `start` itself; a due time that lands exactly on a closing time is
    that closing time, not the next opening.
    """
    return _add(_require_aware("start", start), duration, cal, [])


def business_time_between(
    a: datetime, b: datetime, cal: BusinessCalendar, *, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Business time from `a` to `b` (negative if `b` is before `a`).

    Time inside `pauses` does not count; a pause still open (end None) runs to the later
    of `a` and `b`. So ``business_time_between(opened, now, cal, pauses=...)`` is how much
    of the SLA a ticket has used.
    """
    a_utc, b_utc = _require_aware("a", a), _require_aware("b", b)
    sign = 1
    if b_utc < a_utc:
        a_utc, b_utc, sign = b_utc, a_utc, -1
    merged = _utc_pauses(pauses, until=b_utc) or []
    return sign * _between(a_utc, b_utc, cal, merged)


def due_after_pauses(
    start: datetime, duration: timedelta, pauses: Iterable[Pause], cal: BusinessCalendar
) -> datetime | None:
    """Due time when the clock stops during `pauses` (waiting on the customer, on hold).

    Each pause is ``(paused_at, resumed_at)``; ``resumed_at`` None means the ticket is
    still paused, and then there is no due time: returns None. Pauses may overlap, lie
    outside opening hours, or begin before `start`; only their overlap with open time after
    `start` stops the clock.
    """
    start_utc = _require_aware("start", start)
    merged = _utc_pauses(pauses)
    if merged is None:
        return None
    return _add(start_utc, duration, cal, merged)


def sla_state(
    now: datetime,
    due: datetime | None,
    warn_before: timedelta | float,
    paused: bool = False,
    *,
    total: timedelta | None = None,
    cal: BusinessCalendar | None = None,
) -> SlaState:
    """Where a ticket stands against its due time.

    `warn_before` is either a timedelta ("at risk in the last 2 h") or a fraction of the
    SLA's `total` duration ("at risk in the last 25 %", needs `total`). Remaining time is
    measured in business time when `cal` is given (so a ticket due Monday 10:00 is not
    "at risk" all weekend), else in wall-clock time. A paused ticket (or one with no due
    time) is "paused": its clock is stopped, so it can be neither at risk nor breached.
    Reaching the due instant exactly is still on time.
    """
    if paused or due is None:
        return "paused"
    now_utc, due_utc = _require_aware("now", now), _require_aware("due", due)
    if now_utc > due_utc:
        return "breached"
    if isinstance(warn_before, timedelta):
        threshold = warn_before
    else:
        if total is None:
            raise ValueError("a fractional warn_before needs total= (the SLA duration)")
        if not 0.0 <= warn_before <= 1.0:
            raise ValueError(f"warn_before fraction must be within 0..1, got {warn_before}")
        threshold = total * warn_before
    remaining = _between(now_utc, due_utc, cal, []) if cal is not None else due_utc - now_utc
    return "at_risk" if remaining <= threshold else "ok"
