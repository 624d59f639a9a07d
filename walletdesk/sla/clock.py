"""Reply-time promises: how a ticket's due times move when it changes, and the state shown.

Actions call one hook per kind of change, inside their transaction (through `sla.hooks`, the
clock registered with `tickets.lifecycle`); each `on_*` here updates the ticket's due fields in
place and returns the names of the fields it changed, so the action saves them with its own.
This is the only module that knows how due times are computed; it arms no timer and sends
nothing (`sla.hooks` does, after it).

The promise comes from the most specific active `SlaPolicy` for the ticket's priority
(category + channel > category > channel > general), counted in the team's business hours
(`TeamSettings`: time zone, weekly hours, CN/HK public holidays, custom days off), or in
calendar time for a 24/7 policy. The arithmetic is `sla_clock` (pure); here we only gather
its inputs. Three clocks:

- first reply: from creation until the first public agent reply;
- next reply: from the first customer message that is waiting for an answer (after the first
  reply) until the next public agent reply;
- resolution: from creation until solved.

Every clock stops while the ticket is pending (waiting on the customer), on hold, solved or
closed; the time in those states is stored as pauses and does not count. While paused there is
no due time (the state is "paused"). After each change `sla.hooks` arms the ticket's next
timer (`sla.timers`) in the same transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings

from walletdesk.core.cache import ProcessCache
from walletdesk.sla import calendar as sla_clock
from walletdesk.sla.calendar import BusinessCalendar

if TYPE_CHECKING:
    from walletdesk.tickets.models import TeamSettings, Ticket

SlaState = Literal["ok", "at_risk", "breached", "paused"]
Clock = Literal["first_reply", "next_reply", "resolution"]
AT_RISK_FRACTION = 0.25  # the last quarter of a reply window is "at risk"
PAUSED_STATUSES = ("pending", "on_hold", "solved", "closed")
DONE_STATUSES = ("solved", "closed")
_TTL = 30.0


# --- policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    policy_id: int | None
    first_reply: timedelta
    next_reply: timedelta | None
    resolution: timedelta | None
    around_the_clock: bool = False

    def of(self, clock: Clock) -> timedelta | None:
        value: timedelta | None = getattr(self, clock)
        return value


def _load_policies() -> list[Any]:
    from walletdesk.sla.models import SlaPolicy

    return list(SlaPolicy.objects.filter(active=True))


_policy_cache = ProcessCache(_load_policies, _TTL)
_policies = _policy_cache.get
_calendar_cache: dict[int | None, tuple[float, BusinessCalendar]] = {}
ALWAYS_OPEN = BusinessCalendar(always_open=True)


def forget() -> None:
    """Drop the per-process caches (admin saves, tests)."""
    _policy_cache.forget()
    _calendar_cache.clear()


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


# The policy each (priority, category, channel) gets, for the policy list it was chosen from:
# a new ticket asks five times (its due times and its first timer), and a reload of the
# policies (a new list) starts the memo afresh.
_chosen: tuple[list[Any] | None, dict[tuple[str, int | None, str], Targets | None]] = (None, {})


def targets_for(ticket: Ticket) -> Targets:
    global _chosen
    policies = _policies()
    chosen_from, memo = _chosen
    if chosen_from is not policies:
        memo = {}
        _chosen = (policies, memo)
    key = (ticket.priority, ticket.category_id, ticket.channel)
    if key in memo:
        targets = memo[key]
    else:
        targets = memo[key] = _policy_targets(policies, ticket)
    if targets is None:
        # No policy configured: the calendar-hour fallback from settings, in business time.
        hours = settings.FIRST_REPLY_HOURS.get(ticket.priority, 24)
        return Targets(None, timedelta(hours=hours), timedelta(hours=hours), None)
    return targets


def _policy_targets(policies: list[Any], ticket: Ticket) -> Targets | None:
    best = None
    best_key: tuple[int, int, int] | None = None
    for policy in policies:
        if policy.priority != ticket.priority:
            continue
        if policy.category_id is not None and policy.category_id != ticket.category_id:
            continue
        if policy.channel and policy.channel != ticket.channel:
            continue
        key = (-(2 * (policy.category_id is not None) + bool(policy.channel)), policy.position, policy.pk)
        if best_key is None or key < best_key:
            best, best_key = policy, key
    if best is None:
        return None
    return Targets(
        best.pk,
        timedelta(minutes=best.first_reply_minutes),
        _minutes(best.next_reply_minutes),
        _minutes(best.resolution_minutes),
        best.around_the_clock,
    )


# --- calendars ------------------------------------------------------------------------------


def calendar_from_settings(team_settings: TeamSettings | None) -> BusinessCalendar:
    if team_settings is None:
        return sla_clock.calendar_with_public_holidays(("CN",))
    return sla_clock.calendar_with_public_holidays(
        tuple(team_settings.holiday_countries or ()),
        extra_days_off=[date.fromisoformat(d) for d in team_settings.days_off or ()],
        timezone=team_settings.timezone,
        weekly_hours=sla_clock.parse_weekly_hours(team_settings.weekly_hours or {}),
    )


def team_calendar(team_id: int | None) -> BusinessCalendar:
    """The business calendar of a team (the default desk calendar when it has none), cached."""
    from walletdesk.tickets.models import TeamSettings

    now = time.monotonic()
    cached = _calendar_cache.get(team_id)
    if cached is None or now - cached[0] > _TTL * 10:
        row = TeamSettings.objects.filter(team_id=team_id).first() if team_id else None
        cached = (now, calendar_from_settings(row))
        _calendar_cache[team_id] = cached
    return cached[1]


def calendar_for(ticket: Ticket, targets: Targets | None = None) -> BusinessCalendar:
    targets = targets or targets_for(ticket)
    return ALWAYS_OPEN if targets.around_the_clock else team_calendar(ticket.team_id)


# --- the clock ------------------------------------------------------------------------------


def pauses_of(ticket: Ticket, *, until: datetime | None = None) -> list[tuple[datetime, datetime | None]]:
    """Closed pauses, plus the open one (ending at `until`, or None = still paused)."""
    spans: list[tuple[datetime, datetime | None]] = [
        (datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in ticket.sla_pauses or ()
    ]
    if ticket.sla_paused_at is not None:
        spans.append((ticket.sla_paused_at, until))
    return spans


def clock_start(ticket: Ticket, clock: Clock) -> datetime | None:
    if clock == "next_reply":
        return ticket.awaiting_reply_since
    return ticket.created_at


def due_at(
    ticket: Ticket, clock: Clock, *, fraction: float = 1.0, until: datetime | None = None
) -> datetime | None:
    """When `fraction` of the clock's target will have been used; None while paused."""
    targets = targets_for(ticket)
    target, start = targets.of(clock), clock_start(ticket, clock)
    if target is None or start is None:
        return None
    return sla_clock.due_after_pauses(
        start, target * fraction, pauses_of(ticket, until=until), calendar_for(ticket, targets)
    )


def _recompute(ticket: Ticket, now: datetime) -> list[str]:
    targets = targets_for(ticket)
    ticket.sla_policy_id = targets.policy_id
    fields = ["sla_policy"]
    if ticket.first_replied_at is None:
        ticket.first_reply_due = due_at(ticket, "first_reply")
        fields.append("first_reply_due")
    elif ticket.first_reply_due is None:
        # Answered while paused: record the promise as it stood, for the reports.
        ticket.first_reply_due = due_at(ticket, "first_reply", until=now)
        fields.append("first_reply_due")
    ticket.next_reply_due = (
        due_at(ticket, "next_reply") if ticket.first_replied_at and ticket.awaiting_reply_since else None
    )
    fields.append("next_reply_due")
    if ticket.status not in DONE_STATUSES:
        ticket.resolution_due = due_at(ticket, "resolution")
        fields.append("resolution_due")
    return fields


# --- hooks called by actions ------------------------------------------------------------------


def on_created(ticket: Ticket, now: datetime) -> list[str]:
    return _recompute(ticket, now)


def on_customer_message(ticket: Ticket, now: datetime) -> list[str]:
    fields = []
    if ticket.first_replied_at and ticket.awaiting_reply_since is None:
        ticket.awaiting_reply_since = now
        fields.append("awaiting_reply_since")
    return fields + _recompute(ticket, now)


def on_agent_reply(ticket: Ticket, now: datetime) -> list[str]:
    ticket.awaiting_reply_since = None
    return ["awaiting_reply_since", *_recompute(ticket, now)]


def on_status_change(ticket: Ticket, old_status: str, now: datetime) -> list[str]:
    fields = ["sla_paused_at", "sla_pauses"]
    was_paused, paused = old_status in PAUSED_STATUSES, ticket.status in PAUSED_STATUSES
    # A fresh pending period starts a new pause even after on hold: its reminders are keyed on
    # the moment it began (`sla_paused_at`).
    new_pending = ticket.status == "pending" and old_status != "pending"
    if was_paused and ticket.sla_paused_at is not None and (not paused or new_pending):
        ticket.sla_pauses = [*ticket.sla_pauses, [ticket.sla_paused_at.isoformat(), now.isoformat()]]
        ticket.sla_paused_at = None
    if paused and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    return fields + _recompute(ticket, now)


def on_priority_change(ticket: Ticket, now: datetime) -> list[str]:
    return _recompute(ticket, now)


# --- what people see ------------------------------------------------------------------------


def current_clock(ticket: Ticket) -> Clock | None:
    if ticket.first_replied_at is None:
        return "first_reply"
    if ticket.awaiting_reply_since is not None:
        return "next_reply"
    return None


def current_due(ticket: Ticket) -> datetime | None:
    """The deadline the team is working against now: first reply, then next reply."""
    if ticket.first_replied_at is None:
        return ticket.first_reply_due
    return ticket.next_reply_due


def sla_state(ticket: Ticket, now: datetime) -> SlaState:
    if ticket.status in DONE_STATUSES:
        return "ok"
    if ticket.status in PAUSED_STATUSES:
        return "paused"
    clock = current_clock(ticket)
    due = current_due(ticket)
    if clock is None or due is None:
        # Replied and nothing waiting: the resolution clock is the one that can still breach.
        if ticket.resolution_due is not None and now > ticket.resolution_due:
            return "breached"
        return "ok"
    targets = targets_for(ticket)
    return sla_clock.sla_state(
        now,
        due,
        AT_RISK_FRACTION,
        total=targets.of(clock) or timedelta(0),
        cal=calendar_for(ticket, targets),
    )
