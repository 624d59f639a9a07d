"""Routing rules pick the team; the team's mode picks an agent, skipping away agents."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from walletdesk.tickets import actions, routing
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Category, RoutingRule, Team, TeamSettings, Ticket
from walletdesk.tickets.routing import Rule, first_match


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    routing.forget()
    yield
    routing.forget()


def new(**kw: Any) -> Ticket:
    data = {"subject": "Help", "body": "Please help", "email": "g@example.com", "category": "fees", **kw}
    return actions.create_ticket(NewTicket(**data))


def test_rule_matching_is_plain_data() -> None:
    rules = [
        Rule(team_id=1, channel="email", keywords=("refund",)),
        Rule(team_id=2, language="zh"),
        Rule(team_id=3),
    ]
    assert (
        first_match(rules, category_id=None, channel="email", language="en", text="A REFUND please").team_id
        == 1
    )
    assert first_match(rules, category_id=None, channel="email", language="en", text="hello").team_id == 3
    assert first_match(rules, category_id=None, channel="web", language="zh-hans", text="退款").team_id == 2


def test_rule_sends_keyword_tickets_to_security(db: None) -> None:
    security = Team.objects.get(slug="security")
    RoutingRule.objects.create(name="phishing", keywords="phishing\n钓鱼", team=security)
    assert new(subject="Got a phishing link").team == security
    assert new(body="收到钓鱼网站链接", language="zh").team == security
    assert new().team == Team.objects.get(slug="general")  # falls back to the category's team


def test_rule_by_category_and_channel(db: None) -> None:
    security = Team.objects.get(slug="security")
    RoutingRule.objects.create(
        name="fees by phone", category=Category.objects.get(slug="fees"), channel="phone", team=security
    )
    assert new(channel="phone", email="p@example.com").team == security
    assert new(channel="web").team.slug == "general"


def test_round_robin_skips_away_agents(db: None, alice: Any, erin: Any, root: Any) -> None:
    general = Team.objects.get(slug="general")
    general.members.add(erin, root)
    TeamSettings.objects.create(team=general, assignment="round_robin")
    root.is_away = True
    root.save()
    got = [new().assignee for _ in range(4)]
    assert got == [alice, erin, alice, erin]


def test_least_open_picks_the_lightest_load(db: None, alice: Any, erin: Any) -> None:
    general = Team.objects.get(slug="general")
    general.members.add(erin)
    TeamSettings.objects.create(team=general, assignment="least_open")
    first = new()
    assert first.assignee == alice  # both at 0: lowest id
    assert new().assignee == erin  # alice has 1 open
    actions.change_status(first, "solved", actor=alice)
    assert new().assignee == alice  # alice back to 0 open


def test_no_mode_leaves_unassigned(db: None, alice: Any) -> None:
    assert new().assignee is None


def test_admin_rule_editor_is_for_admins(db: None, root: Any, alice: Any, as_user: Any) -> None:
    assert as_user(root).get("/admin/tickets/routingrule/add/").status_code == 200
    assert as_user(alice).get("/admin/tickets/routingrule/add/").status_code in (302, 403)
    assert Client().get("/admin/tickets/routingrule/").status_code == 302
