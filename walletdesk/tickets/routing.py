"""Where a new ticket goes: its team, and an agent in that team.

`choose_team()` needs no lock and runs in `actions.draft`, before the write transaction;
`assign()` takes the team's row lock, so it runs inside that transaction, before the insert,
on the unsaved ticket.

Team: a channel's explicit choice (`requested_team`) wins; otherwise the first active
`RoutingRule` (by position) whose filled-in conditions all match (category, channel,
language, any one keyword in the text); otherwise the category's default team.

Agent: the team's `TeamSettings.assignment` says how: leave unassigned, round-robin, or the
member with the fewest open tickets. Away agents (`User.is_away`), inactive users and non-staff
are skipped. The team's settings row is locked (core.locks) while choosing, so two tickets
created at once never both pick "the next" agent from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from walletdesk.core.cache import ProcessCache
from walletdesk.core.locks import lock_rows
from walletdesk.tickets.models import ACTIVE_STATUSES, Assignment, RoutingRule, Team, TeamSettings, Ticket

_TTL = 30.0


@dataclass(frozen=True)
class Rule:
    """A routing rule as plain data, matched without touching the database."""

    team_id: int
    category_id: int | None = None
    channel: str = ""
    language: str = ""
    keywords: tuple[str, ...] = ()

    def matches(self, *, category_id: int | None, channel: str, language: str, text: str) -> bool:
        if self.category_id is not None and self.category_id != category_id:
            return False
        if self.channel and self.channel != channel:
            return False
        if self.language and not language.lower().startswith(self.language):
            return False
        if self.keywords:
            folded = text.casefold()
            return any(k in folded for k in self.keywords)
        return True


def _load_assigning_teams() -> dict[int, int]:
    """team id -> TeamSettings id, for the teams that assign automatically.

    Most teams leave tickets unassigned; knowing which do saves a query on every new ticket.
    """
    return dict(TeamSettings.objects.exclude(assignment=Assignment.NONE).values_list("team_id", "pk"))


def _load_rules() -> list[Rule]:
    return [
        Rule(
            team_id=r.team_id,
            category_id=r.category_id,
            channel=r.channel,
            language=r.language,
            keywords=tuple(k.strip().casefold() for k in r.keywords.splitlines() if k.strip()),
        )
        for r in RoutingRule.objects.filter(active=True).order_by("position", "pk")
    ]


_rule_cache = ProcessCache(_load_rules, _TTL)
_assigning_cache = ProcessCache(_load_assigning_teams, _TTL)
_rules = _rule_cache.get
_assigning_teams = _assigning_cache.get


def forget() -> None:
    _rule_cache.forget()
    _assigning_cache.forget()


def first_match(
    rules: list[Rule], *, category_id: int | None, channel: str, language: str, text: str
) -> Rule | None:
    return next(
        (
            r
            for r in rules
            if r.matches(category_id=category_id, channel=channel, language=language, text=text)
        ),
        None,
    )


def choose_team(ticket: Ticket, text: str, *, requested_team: Team | None = None) -> None:
    """The team, by the routing rules (cached; no query). Safe outside a transaction."""
    if requested_team is not None:
        ticket.team = requested_team
    else:
        rule = first_match(
            _rules(),
            category_id=ticket.category_id,
            channel=ticket.channel,
            language=ticket.language,
            text=f"{ticket.subject}\n{text}",
        )
        if rule is not None:
            ticket.team_id = rule.team_id
        elif ticket.category is not None:
            ticket.team = ticket.category.default_team


def assign(ticket: Ticket) -> None:
    """The agent the team's assignment mode picks; takes the team's row lock, so call it in
    the transaction that saves the ticket."""
    if ticket.team_id is not None and ticket.assignee_id is None:
        agent = pick_agent(ticket.team_id)
        if agent is not None:
            ticket.assignee = agent


def _available(team_id: int) -> Any:
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(teams__pk=team_id, is_active=True, is_staff=True, is_away=False)
        .order_by("pk")
    )


def pick_agent(team_id: int) -> Any | None:
    """The agent the team's assignment mode chooses, or None (no mode, nobody available)."""
    settings_id = _assigning_teams().get(team_id)
    if settings_id is None:
        return None
    team_settings = lock_rows(TeamSettings, [settings_id]).get(settings_id)
    if team_settings is None or team_settings.assignment == Assignment.NONE:
        return None  # changed since the cache was filled
    candidates = _available(team_id)
    if team_settings.assignment == Assignment.ROUND_ROBIN:
        last = team_settings.last_assigned_id or 0
        agent = candidates.filter(pk__gt=last).first() or candidates.first()
    else:
        agent = (
            candidates.annotate(open_count=Count("assigned", filter=Q(assigned__status__in=ACTIVE_STATUSES)))
            .order_by("open_count", "pk")
            .first()
        )
    if agent is not None:
        team_settings.last_assigned = agent
        team_settings.save(update_fields=["last_assigned"])
    return agent
