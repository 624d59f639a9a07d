"""SLA clock: due times worked out by hand.

Unless a test says otherwise the calendar is the support desk in Shanghai (UTC+8, no DST),
Monday-Friday 09:00-18:00. Expected values are literal local datetimes; the comment above
each shows the arithmetic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from walletdesk.sla.calendar import (
    WEEKDAYS_9_TO_6,
    BusinessCalendar,
    add_business_time,
    business_time_between,
    calendar_with_public_holidays,
    due_after_pauses,
    parse_weekly_hours,
    sla_state,
)

SH = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)

OFFICE = BusinessCalendar()  # Asia/Shanghai, Mon-Fri 09:00-18:00
CN_2025 = calendar_with_public_holidays(("CN",), years=[2025])
EVERY_DAY_9_TO_5 = (((time(9), time(17)),),) * 7


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# --- ordinary weeks -------------------------------------------------------------------


def test_due_within_the_same_day() -> None:
    # Mon 3 Mar 2025 10:00 + 4 h -> 14:00, same day.
    due = add_business_time(sh(2025, 3, 3, 10), 4 * H, OFFICE)
    assert due == sh(2025, 3, 3, 14)
    assert due.tzinfo is UTC  # always handed back in UTC
    assert due == datetime(2025, 3, 3, 6, tzinfo=UTC)


def test_due_across_the_night() -> None:
    # Mon 16:00 + 4 h: 16:00-18:00 = 2 h, then Tue 09:00 + 2 h -> Tue 11:00.
    assert add_business_time(sh(2025, 3, 3, 16), 4 * H, OFFICE) == sh(2025, 3, 4, 11)


def test_due_across_a_weekend() -> None:
    # Fri 7 Mar 17:00 + 3 h: 17:00-18:00 = 1 h, Sat/Sun closed, Mon 10 Mar 09:00 + 2 h -> 11:00.
    assert add_business_time(sh(2025, 3, 7, 17), 3 * H, OFFICE) == sh(2025, 3, 10, 11)


def test_forty_business_hours() -> None:
    # Fri 7 Mar 16:00 + 40 h: Fri 2 h, Mon-Thu 4 x 9 h = 36 h (38 h), Fri 14 Mar 09:00 + 2 h -> 11:00.
    assert add_business_time(sh(2025, 3, 7, 16), 40 * H, OFFICE) == sh(2025, 3, 14, 11)


def test_due_exactly_at_closing_time_is_closing_time() -> None:
    # Mon 09:00 + 9 h uses the whole day -> Mon 18:00, not Tue 09:00.
    assert add_business_time(sh(2025, 3, 3, 9), 9 * H, OFFICE) == sh(2025, 3, 3, 18)


def test_start_outside_hours_starts_at_next_opening() -> None:
    # Sat 8 Mar 14:00: closed until Mon 10 Mar 09:00, + 1 h -> 10:00.
    assert add_business_time(sh(2025, 3, 8, 14), H, OFFICE) == sh(2025, 3, 10, 10)
    # Mon 07:00, before opening: 09:00 + 30 min -> 09:30.
    assert add_business_time(sh(2025, 3, 3, 7), timedelta(minutes=30), OFFICE) == sh(2025, 3, 3, 9, 30)
    # Mon 19:00, after closing: Tue 09:00 + 30 min -> 09:30.
    assert add_business_time(sh(2025, 3, 3, 19), timedelta(minutes=30), OFFICE) == sh(2025, 3, 4, 9, 30)


def test_start_in_another_zone_is_read_as_the_same_instant() -> None:
    # 02:00 UTC on Mon 3 Mar = 10:00 Shanghai; + 4 h -> 14:00 Shanghai.
    start = datetime(2025, 3, 3, 2, tzinfo=UTC)
    assert add_business_time(start, 4 * H, OFFICE) == sh(2025, 3, 3, 14)


def test_zero_duration_is_the_start() -> None:
    assert add_business_time(sh(2025, 3, 8, 14), timedelta(0), OFFICE) == sh(2025, 3, 8, 14)


def test_several_intervals_per_day() -> None:
    lunch_break = BusinessCalendar(
        weekly_hours=parse_weekly_hours({d: [("09:00", "12:00"), ("13:00", "18:00")] for d in range(5)})
    )
    # Mon 11:00 + 2 h: 11:00-12:00 = 1 h, lunch, 13:00 + 1 h -> 14:00.
    assert add_business_time(sh(2025, 3, 3, 11), 2 * H, lunch_break) == sh(2025, 3, 3, 14)
    # Starting during lunch: 13:00 + 30 min.
    assert add_business_time(sh(2025, 3, 3, 12, 10), timedelta(minutes=30), lunch_break) == sh(
        2025, 3, 3, 13, 30
    )
    # A whole day holds 3 h + 5 h = 8 h.
    assert business_time_between(sh(2025, 3, 3), sh(2025, 3, 4), lunch_break) == 8 * H


# --- public holidays and make-up workdays (mainland China 2025) --------------------------


def test_cn_calendar_has_golden_week_and_makeup_days() -> None:
    assert date(2025, 10, 1) in CN_2025.holidays
    assert date(2025, 10, 8) in CN_2025.holidays  # 休息日 swapped from Sat 11 Oct
    # The holidays package publishes China's make-up working weekends (调休).
    assert date(2025, 9, 28) in CN_2025.extra_workdays  # a Sunday
    assert date(2025, 10, 11) in CN_2025.extra_workdays  # a Saturday


def test_due_across_national_day_golden_week() -> None:
    # Tue 30 Sep 17:00 + 2 h: 1 h on 30 Sep; 1-8 Oct off (1-3 and 6-8 holidays, 4-5 weekend);
    # Thu 9 Oct 09:00 + 1 h -> 10:00.
    assert add_business_time(sh(2025, 9, 30, 17), 2 * H, CN_2025) == sh(2025, 10, 9, 10)
    # The plain office calendar, without holidays, would have said Wed 1 Oct 10:00.
    assert add_business_time(sh(2025, 9, 30, 17), 2 * H, OFFICE) == sh(2025, 10, 1, 10)


def test_due_across_spring_festival() -> None:
    # Mon 27 Jan 2025 17:30 + 1 h: 30 min on 27 Jan; 28-31 Jan holidays; 1-2 Feb weekend;
    # 3-4 Feb swapped days off; Wed 5 Feb 09:00 + 30 min -> 09:30.
    assert add_business_time(sh(2025, 1, 27, 17, 30), H, CN_2025) == sh(2025, 2, 5, 9, 30)


def test_makeup_working_sunday_and_saturday() -> None:
    # Sat 27 Sep 12:00 is closed; Sun 28 Sep is a make-up workday: 09:00 + 3 h -> 12:00.
    assert add_business_time(sh(2025, 9, 27, 12), 3 * H, CN_2025) == sh(2025, 9, 28, 12)
    # Thu 9 Oct 17:00 + 10 h: 1 h Thu, 9 h Fri 10 Oct (10 h), Sat 11 Oct is a make-up workday
    # but that is not needed: Fri ends at exactly 10 h -> Fri 18:00.
    assert add_business_time(sh(2025, 10, 9, 17), 10 * H, CN_2025) == sh(2025, 10, 10, 18)
    # Fri 10 Oct 17:00 + 2 h: 1 h Fri, Sat 11 Oct 09:00 + 1 h -> Sat 10:00.
    assert add_business_time(sh(2025, 10, 10, 17), 2 * H, CN_2025) == sh(2025, 10, 11, 10)


def test_explicit_extra_workday_with_its_own_hours() -> None:
    cal = BusinessCalendar(
        extra_workdays={date(2025, 3, 8)},  # a set is accepted and frozen
        extra_workday_hours=((time(10), time(12)),),
    )
    # Fri 7 Mar 17:00 + 3 h: 1 h Fri, Sat 8 Mar 10:00-12:00 = 2 h -> Sat 12:00.
    assert add_business_time(sh(2025, 3, 7, 17), 3 * H, cal) == sh(2025, 3, 8, 12)
    assert isinstance(cal.extra_workdays, frozenset)
    hash(cal)  # usable as a cache key


def test_extra_days_off_and_hong_kong() -> None:
    hk = calendar_with_public_holidays(("HK",), years=[2025], extra_days_off=[date(2025, 12, 24)])
    # Tue 23 Dec 17:00 + 2 h: 1 h Tue; 24 Dec extra day off; 25-26 Dec HK holidays; 27-28 weekend;
    # Mon 29 Dec 09:00 + 1 h -> 10:00.
    assert add_business_time(sh(2025, 12, 23, 17), 2 * H, hk) == sh(2025, 12, 29, 10)


def test_holiday_cancels_shift_that_starts_on_it() -> None:
    cal = BusinessCalendar(holidays={date(2025, 3, 4)})
    # Mon 17:00 + 2 h: 1 h Mon; Tue 4 Mar is a holiday; Wed 09:00 + 1 h -> 10:00.
    assert add_business_time(sh(2025, 3, 3, 17), 2 * H, cal) == sh(2025, 3, 5, 10)


# --- overnight intervals --------------------------------------------------------------

NIGHT_DESK = BusinessCalendar(weekly_hours=parse_weekly_hours({d: [("22:00", "06:00")] for d in range(5)}))


def test_overnight_shift_runs_into_the_weekend() -> None:
    # Fri 7 Mar 23:00 + 8 h: the Friday shift runs to Sat 06:00 = 7 h; no shift starts Sat or
    # Sun; Mon 10 Mar 22:00 + 1 h -> 23:00.
    assert add_business_time(sh(2025, 3, 7, 23), 8 * H, NIGHT_DESK) == sh(2025, 3, 10, 23)


def test_start_inside_yesterdays_overnight_shift() -> None:
    # Sat 8 Mar 02:00 is still inside Friday's 22:00-06:00 shift: + 1 h -> 03:00.
    assert add_business_time(sh(2025, 3, 8, 2), H, NIGHT_DESK) == sh(2025, 3, 8, 3)
    # Mon 10 Mar 02:00 is not: Sunday has no shift. Mon 22:00 + 1 h -> 23:00.
    assert add_business_time(sh(2025, 3, 10, 2), H, NIGHT_DESK) == sh(2025, 3, 10, 23)


def test_overlapping_intervals_are_not_counted_twice() -> None:
    cal = BusinessCalendar(
        weekly_hours=parse_weekly_hours(
            {0: [("09:00", "18:00"), ("17:00", "02:00")], 1: [("01:00", "03:00")]}
        )
    )
    # Mon 09:00-18:00 and 17:00-Tue 02:00 merge to 09:00-02:00 (17 h); Tue 01:00-03:00 extends
    # it to 03:00: 18 h in all, not 9 + 9 + 2 = 20 h.
    assert business_time_between(sh(2025, 3, 3), sh(2025, 3, 5), cal) == 18 * H


def test_whole_day_interval() -> None:
    cal = BusinessCalendar(weekly_hours=parse_weekly_hours({5: [("00:00", "00:00")]}))
    # Only Saturdays, all day. Fri 7 Mar 12:00 + 30 h: Sat 8 Mar 00:00 + 24 h = Sun 00:00 (24 h),
    # next Saturday 15 Mar 00:00 + 6 h -> 06:00.
    assert add_business_time(sh(2025, 3, 7, 12), 30 * H, cal) == sh(2025, 3, 15, 6)


# --- 24/7 -----------------------------------------------------------------------------


def test_always_open_counts_calendar_time() -> None:
    urgent = BusinessCalendar(always_open=True, holidays={date(2025, 3, 9)})
    # Sat 8 Mar 23:30 + 4 h -> Sun 03:30; weekends and holidays do not matter.
    assert add_business_time(sh(2025, 3, 8, 23, 30), 4 * H, urgent) == sh(2025, 3, 9, 3, 30)
    assert business_time_between(sh(2025, 3, 8), sh(2025, 3, 10), urgent) == 48 * H


def test_always_open_across_dst_counts_real_hours() -> None:
    urgent = BusinessCalendar(timezone="Europe/London", always_open=True)
    # Sat 29 Mar 12:00 GMT + 24 h of real time -> Sun 30 Mar 13:00 BST (the clock jumped 1 h).
    start = datetime(2025, 3, 29, 12, tzinfo=LONDON)
    assert add_business_time(start, 24 * H, urgent) == datetime(2025, 3, 30, 13, tzinfo=LONDON)


# --- pauses ---------------------------------------------------------------------------


def test_pause_and_resume() -> None:
    # Mon 10:00 + 4 h, waiting on the customer 11:00-15:00: 1 h used before the pause,
    # 3 h after 15:00 -> 18:00.
    pauses = [(sh(2025, 3, 3, 11), sh(2025, 3, 3, 15))]
    assert due_after_pauses(sh(2025, 3, 3, 10), 4 * H, pauses, OFFICE) == sh(2025, 3, 3, 18)


def test_pause_over_the_night() -> None:
    # Mon 10:00 + 8 h; on hold Mon 17:00 - Tue 10:00: 7 h used before, the night is closed anyway,
    # Tue 09:00-10:00 is paused; 10:00 + 1 h -> Tue 11:00.
    pauses = [(sh(2025, 3, 3, 17), sh(2025, 3, 4, 10))]
    assert due_after_pauses(sh(2025, 3, 3, 10), 8 * H, pauses, OFFICE) == sh(2025, 3, 4, 11)


def test_several_overlapping_pauses_and_one_before_start() -> None:
    pauses = [
        (sh(2025, 3, 3, 8), sh(2025, 3, 3, 10, 30)),  # began before the ticket; 30 min counts
        (sh(2025, 3, 3, 12), sh(2025, 3, 3, 13)),
        (sh(2025, 3, 3, 12, 30), sh(2025, 3, 3, 14)),  # overlaps the previous: 12:00-14:00
    ]
    # Start 10:00 + 3 h: paused to 10:30; 10:30-12:00 = 1.5 h; paused to 14:00; + 1.5 h -> 15:30.
    assert due_after_pauses(sh(2025, 3, 3, 10), 3 * H, pauses, OFFICE) == sh(2025, 3, 3, 15, 30)


def test_pause_in_closed_time_changes_nothing() -> None:
    pauses = [(sh(2025, 3, 8, 10), sh(2025, 3, 9, 20))]  # the weekend
    assert due_after_pauses(sh(2025, 3, 7, 17), 3 * H, pauses, OFFICE) == add_business_time(
        sh(2025, 3, 7, 17), 3 * H, OFFICE
    )


def test_pause_still_open_means_no_due_time() -> None:
    pauses = [(sh(2025, 3, 3, 11), sh(2025, 3, 3, 12)), (sh(2025, 3, 3, 15), None)]
    assert due_after_pauses(sh(2025, 3, 3, 10), 4 * H, pauses, OFFICE) is None
    assert sla_state(sh(2025, 3, 3, 16), None, 2 * H, paused=True) == "paused"


def test_business_time_used_with_an_open_pause() -> None:
    # Opened Mon 10:00; waiting on the customer since 15:00 and still waiting at Tue 12:00.
    # Used: 10:00-15:00 = 5 h.
    pauses = [(sh(2025, 3, 3, 15), None)]
    assert business_time_between(sh(2025, 3, 3, 10), sh(2025, 3, 4, 12), OFFICE, pauses=pauses) == 5 * H


# --- business_time_between ------------------------------------------------------------


def test_business_time_between() -> None:
    # Fri 7 Mar 17:00 -> Mon 10 Mar 11:00: 1 h + 2 h.
    assert business_time_between(sh(2025, 3, 7, 17), sh(2025, 3, 10, 11), OFFICE) == 3 * H
    assert business_time_between(sh(2025, 3, 10, 11), sh(2025, 3, 7, 17), OFFICE) == -3 * H
    assert business_time_between(sh(2025, 3, 8), sh(2025, 3, 9), OFFICE) == timedelta(0)
    # A whole week: 5 x 9 h.
    assert business_time_between(sh(2025, 3, 3), sh(2025, 3, 10), OFFICE) == 45 * H


# --- daylight saving time -------------------------------------------------------------


def test_london_spring_forward_day_is_still_eight_hours() -> None:
    cal = BusinessCalendar(timezone="Europe/London", weekly_hours=EVERY_DAY_9_TO_5)
    # Sun 30 Mar 2025: clocks go 01:00 GMT -> 02:00 BST, before opening; 09:00-17:00 BST = 8 h.
    day = business_time_between(
        datetime(2025, 3, 30, tzinfo=LONDON), datetime(2025, 3, 31, tzinfo=LONDON), cal
    )
    assert day == 8 * H
    # Sat 29 Mar 16:00 GMT + 2 h: 1 h Sat, Sun 09:00 BST (08:00 UTC) + 1 h -> 10:00 BST = 09:00 UTC.
    due = add_business_time(datetime(2025, 3, 29, 16, tzinfo=LONDON), 2 * H, cal)
    assert due == datetime(2025, 3, 30, 10, tzinfo=LONDON)
    assert due == datetime(2025, 3, 30, 9, tzinfo=UTC)


def test_london_fall_back_day_is_still_eight_hours() -> None:
    cal = BusinessCalendar(timezone="Europe/London", weekly_hours=EVERY_DAY_9_TO_5)
    # Sun 26 Oct 2025: clocks go 02:00 BST -> 01:00 GMT, before opening.
    day = business_time_between(
        datetime(2025, 10, 26, tzinfo=LONDON), datetime(2025, 10, 27, tzinfo=LONDON), cal
    )
    assert day == 8 * H
    # Sun 09:00 GMT + 8 h -> 17:00 GMT = 17:00 UTC.
    due = add_business_time(datetime(2025, 10, 26, 9, tzinfo=LONDON), 8 * H, cal)
    assert due == datetime(2025, 10, 26, 17, tzinfo=UTC)


def test_overnight_shift_on_dst_nights_is_as_long_as_it_really_is() -> None:
    cal = BusinessCalendar(
        timezone="Europe/London", weekly_hours=parse_weekly_hours({d: [("22:00", "06:00")] for d in range(7)})
    )
    # Sat 29 Mar 22:00 GMT (22:00 UTC) -> Sun 06:00 BST (05:00 UTC): 7 h of real work.
    spring = business_time_between(
        datetime(2025, 3, 29, 12, tzinfo=LONDON), datetime(2025, 3, 30, 12, tzinfo=LONDON), cal
    )
    assert spring == 7 * H
    # Sat 25 Oct 22:00 BST (21:00 UTC) -> Sun 06:00 GMT (06:00 UTC): 9 h.
    autumn = business_time_between(
        datetime(2025, 10, 25, 12, tzinfo=LONDON), datetime(2025, 10, 26, 12, tzinfo=LONDON), cal
    )
    assert autumn == 9 * H
    # Sat 29 Mar 23:00 GMT + 7 h: 23:00 UTC .. 05:00 UTC is 6 h of the shift; next shift Sun 22:00
    # BST (21:00 UTC) + 1 h -> 23:00 BST.
    due = add_business_time(datetime(2025, 3, 29, 23, tzinfo=LONDON), 7 * H, cal)
    assert due == datetime(2025, 3, 30, 23, tzinfo=LONDON)


def test_new_york_spring_forward() -> None:
    cal = BusinessCalendar(timezone="America/New_York", weekly_hours=EVERY_DAY_9_TO_5)
    # Sat 8 Mar 2025 16:00 EST (21:00 UTC) + 2 h: 1 h Sat; Sun 9 Mar clocks jump at 02:00;
    # 09:00 EDT (13:00 UTC) + 1 h -> 10:00 EDT = 14:00 UTC.
    due = add_business_time(datetime(2025, 3, 8, 16, tzinfo=NEW_YORK), 2 * H, cal)
    assert due == datetime(2025, 3, 9, 14, tzinfo=UTC)


def test_interval_inside_the_spring_forward_gap_is_empty() -> None:
    # 01:00-02:00 local on Sun 30 Mar 2025 does not exist in London: both ends are 01:00 UTC.
    cal = BusinessCalendar(
        timezone="Europe/London", weekly_hours=parse_weekly_hours({6: [("01:00", "02:00")]})
    )
    week = business_time_between(datetime(2025, 3, 24, tzinfo=UTC), datetime(2025, 4, 7, tzinfo=UTC), cal)
    assert week == H  # only Sun 6 Apr's hour counts


# --- sla_state ------------------------------------------------------------------------


def test_sla_state_with_a_fixed_warning() -> None:
    due = sh(2025, 3, 3, 18)
    assert sla_state(sh(2025, 3, 3, 12), due, 2 * H) == "ok"
    assert sla_state(sh(2025, 3, 3, 16, 30), due, 2 * H) == "at_risk"
    assert sla_state(due, due, 2 * H) == "at_risk"  # answering at the due instant is on time
    assert sla_state(sh(2025, 3, 3, 18, 1), due, 2 * H) == "breached"
    assert sla_state(sh(2025, 3, 3, 18, 1), due, 2 * H, paused=True) == "paused"


def test_sla_state_with_a_fraction() -> None:
    due = sh(2025, 3, 3, 18)
    # Last 25 % of an 8 h SLA = the last 2 h.
    assert sla_state(sh(2025, 3, 3, 15, 59), due, 0.25, total=8 * H) == "ok"
    assert sla_state(sh(2025, 3, 3, 16), due, 0.25, total=8 * H) == "at_risk"
    with pytest.raises(ValueError, match="total"):
        sla_state(sh(2025, 3, 3, 16), due, 0.25)


def test_sla_state_in_business_time() -> None:
    due = sh(2025, 3, 10, 9, 30)  # Mon 09:30
    now = sh(2025, 3, 9, 23)  # Sun 23:00: 10.5 h of wall time left, but only 30 min of work time
    assert sla_state(now, due, 2 * H) == "ok"
    assert sla_state(now, due, 2 * H, cal=OFFICE) == "at_risk"


# --- errors and speed -----------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        add_business_time(datetime(2025, 3, 3, 10), H, OFFICE)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(sh(2025, 3, 3, 10), -H, OFFICE)


def test_calendar_without_any_opening_hours_is_an_error_not_a_hang() -> None:
    never = BusinessCalendar(weekly_hours=((),) * 7)
    with pytest.raises(ValueError, match="no opening hours"):
        add_business_time(sh(2025, 3, 3, 10), H, never)
    with pytest.raises(ValueError, match="no opening hours"):
        business_time_between(sh(2025, 3, 3), sh(2025, 3, 4), never)


def test_calendar_open_only_on_extra_workdays() -> None:
    cal = BusinessCalendar(weekly_hours=((),) * 7, extra_workdays={date(2025, 3, 8)})
    with pytest.raises(ValueError, match="no opening hours"):
        # The extra workday has no hours of its own and there are no weekday hours to borrow.
        add_business_time(sh(2025, 3, 3, 10), H, cal)
    cal = BusinessCalendar(
        weekly_hours=((),) * 7,
        extra_workdays={date(2025, 3, 8)},
        extra_workday_hours=((time(9), time(12)),),
    )
    # Sat 8 Mar 09:00 + 2 h -> 11:00.
    assert add_business_time(sh(2025, 3, 3, 10), 2 * H, cal) == sh(2025, 3, 8, 11)
    # 4 h would need time after the last open day.
    with pytest.raises(ValueError, match="no opening hours"):
        add_business_time(sh(2025, 3, 3, 10), 4 * H, cal)


def test_bad_calendar_settings_fail_early() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(weekly_hours=WEEKDAYS_9_TO_6[:5])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weekday"):
        parse_weekly_hours({7: [("09:00", "18:00")]})
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError or ValueError
        BusinessCalendar(timezone="Mars/Olympus_Mons")


def test_parse_weekly_hours_from_json_shapes() -> None:
    hours = parse_weekly_hours({"0": [["09:00", "12:00"], ["13:00", "18:00"]], "5": [["10:00", "14:00"]]})
    assert hours[0] == ((time(9), time(12)), (time(13), time(18)))
    assert hours[5] == ((time(10), time(14)),)
    assert hours[6] == ()


def test_long_durations() -> None:
    # 45 business hours per week: 4,500 h = exactly 100 weeks from Mon 09:00 -> Fri 18:00 of week 100.
    due = add_business_time(sh(2025, 3, 3, 9), 4500 * H, OFFICE)
    assert due == sh(2027, 1, 29, 18)
