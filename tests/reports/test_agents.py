"""Reports by agent and the tickets-per-day line: what the figures mean, how few queries they
take, and that an agent outside a restricted team learns nothing of its tickets from them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import _make_user
from walletdesk.desk.reports import charts, metrics
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Ticket

H = timedelta(hours=1)
_seq = iter(range(10_000))


def ticket(
    *,
    replier: Any = None,
    assignee: Any = None,
    reply: timedelta | None = None,
    solve: timedelta | None = None,
    category: str = "fees",
    created: datetime | None = None,
    reply_due: timedelta | None = None,
    rating: str = "",
) -> Ticket:
    """A ticket created at `created`, first answered `reply` later by `replier`, solved
    `solve` after creation, through the real actions; the times are then set exactly."""
    i = next(_seq)
    t = actions.create_ticket(
        NewTicket(subject=f"s{i}", body="b", email=f"c{i}@example.com", category=category, channel="web")
    )
    created = created or timezone.now() - 12 * H
    if assignee is not None:
        actions.assign(t, assignee, actor=assignee)
    if replier is not None:
        actions.add_agent_message(t, "internal first", agent=replier, internal=True)
        message = actions.add_agent_message(t, "hello", agent=replier)
        Message.objects.filter(pk=message.pk).update(created_at=created + (reply or H))
    if solve is not None:
        actions.change_status(t, "solved", actor=assignee or replier)
    Ticket.objects.filter(pk=t.pk).update(
        created_at=created,
        first_replied_at=created + reply if replier is not None and reply is not None else None,
        first_reply_due=created + reply_due if reply_due is not None else None,
        solved_at=created + solve if solve is not None else None,
    )
    if rating:
        CsatSurvey.objects.create(ticket=t, rating=rating, answered_at=timezone.now())
    return Ticket.objects.get(pk=t.pk)


def today_filters(days: int = 2, team: Any = None) -> metrics.Filters:
    end = timezone.localdate()
    return metrics.Filters(start=end - timedelta(days=days - 1), end=end, team=team)


def by_name(report: metrics.Report) -> dict[str, metrics.AgentFigures]:
    return {a.name: a for a in report.agents}


def test_per_agent_figures(db: None, root: Any, alice: Any, erin: Any) -> None:
    # Alice: three tickets she answered after 1, 2 and 5 h, two solved after 4 and 10 h, one late.
    ticket(replier=alice, assignee=alice, reply=1 * H, solve=4 * H, reply_due=3 * H, rating="good")
    ticket(replier=alice, assignee=alice, reply=2 * H, solve=10 * H, reply_due=3 * H, rating="bad")
    ticket(replier=alice, assignee=alice, reply=5 * H, reply_due=3 * H, rating="good")
    # Erin answered first on a ticket later assigned to Alice: the first reply is Erin's.
    ticket(replier=erin, assignee=alice, reply=H / 2)
    ticket(assignee=erin)  # assigned, never answered
    got = by_name(metrics.build(root, today_filters()))
    a, e = got["Alice"], got["Erin"]
    assert (a.assigned, a.solved, a.breaches) == (4, 2, 1)
    assert (a.first_reply.count, a.first_reply.median, a.first_reply.p90) == (3, 2 * H, 5 * H)
    assert (a.resolution.count, a.resolution.median, a.resolution.p90) == (2, 4 * H, 10 * H)
    assert a.csat == (2, 3) and a.csat_rate == pytest.approx(2 / 3)
    assert (e.assigned, e.solved, e.first_reply.count, e.first_reply.median) == (1, 0, 1, H / 2)
    assert e.csat == (0, 0) and e.resolution.median is None


@pytest.mark.parametrize(
    ("n", "median", "p90"), [(1, 1, 1), (2, 1, 2), (4, 2, 4), (10, 5, 9), (11, 6, 10), (20, 10, 18)]
)
def test_nearest_ranks(n: int, median: int, p90: int) -> None:
    assert (metrics.median_rank(n), metrics.p90_rank(n)) == (median, p90)


def test_window_ranks_match_python_ranks(db: None, root: Any, alice: Any) -> None:
    """The SQL writes the rank arithmetic again: the database must pick the same rows."""
    for hours in (7, 1, 3, 9, 5, 2, 8, 4, 6, 10, 11):
        ticket(replier=alice, reply=hours * H)
    got = by_name(metrics.build(root, today_filters()))["Alice"].first_reply
    assert (got.count, got.median, got.p90) == (11, 6 * H, 10 * H)


def test_query_count_does_not_grow_with_agents_or_tickets(
    db: None, root: Any, alice: Any, as_user: Any
) -> None:
    client = as_user(root)
    ticket(replier=alice, assignee=alice, reply=H, solve=2 * H, rating="good")
    client.get("/agent/reports/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/agent/reports/")
    assert page.content.decode().count('data-testid="agent-row"') == 1
    for i in range(6):
        agent = _make_user(f"agent{i}@desk.test", staff=True)
        for j in range(3):
            ticket(
                replier=agent, assignee=alice if j else agent, reply=(j + 1) * H, solve=5 * H, rating="bad"
            )
    with CaptureQueriesContext(connection) as many:
        page = client.get("/agent/reports/")
    assert page.content.decode().count('data-testid="agent-row"') == 7
    assert len(many) == len(few)


def test_restricted_team_stays_out_of_an_outsiders_figures(
    db: None, root: Any, alice: Any, bob: Any, as_user: Any
) -> None:
    # Bob (security desk) works two stolen-account tickets and one general ticket.
    ticket(replier=bob, assignee=bob, reply=9 * H, solve=20 * H, category="account_stolen", rating="bad")
    ticket(replier=bob, assignee=bob, reply=9 * H, category="account_stolen", rating="bad")
    ticket(replier=bob, assignee=bob, reply=H, solve=2 * H, rating="good")
    seen_by_alice = by_name(metrics.build(alice, today_filters()))["Bob"]
    assert (seen_by_alice.assigned, seen_by_alice.solved) == (1, 1)
    assert (seen_by_alice.first_reply.count, seen_by_alice.first_reply.median) == (1, H)
    assert seen_by_alice.resolution.p90 == 2 * H and seen_by_alice.csat == (1, 1)
    assert by_name(metrics.build(bob, today_filters()))["Bob"].assigned == 3
    assert by_name(metrics.build(root, today_filters()))["Bob"].csat == (1, 3)
    # Asking for the security team by name changes nothing: it is not in Alice's teams.
    client = as_user(alice)
    for query in ({}, {"team": "security"}):
        html = client.get("/agent/reports/", query).content.decode()
        table = html[html.index('data-testid="agents"') :]
        cells = re.findall(r"<td>([^<]*)</td>", table[: table.index("</table>")])
        assert cells == ["1", "1", "1.0", "1.0", "2.0", "1", "100%", "0"]
        got = client.get("/agent/reports/", {**query, "format": "csv"}).content.decode("utf-8-sig")
        rows = [r for r in csv.reader(io.StringIO(got)) if r[0].startswith("agent_")]
        assert ["agent_assigned", "Bob", "1"] in rows and ["agent_csat_answered", "Bob", "1"] in rows
        assert not any(r[2] in ("9.0", "20.0", "3") for r in rows)
    # Only security tickets: Bob has no row at all for Alice, and one for himself.
    Ticket.objects.filter(category__slug="fees").delete()
    assert "Bob" not in by_name(metrics.build(alice, today_filters()))
    assert "Bob" in by_name(metrics.build(bob, today_filters()))


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_customers_and_guests_see_no_agent_figures(
    db: None, who: str, request: Any, alice: Any, as_user: Any
) -> None:
    ticket(replier=alice, assignee=alice, reply=H)
    customer = as_user(request.getfixturevalue(who))
    guest = as_user(None)
    for client in (customer, guest):
        for query in ({}, {"format": "csv"}, {"team": "general"}):
            got = client.get("/agent/reports/", query)
            assert got.status_code in (302, 403) and b"Alice" not in got.content


def test_hostile_agent_names_are_escaped_and_defused(db: None, root: Any, as_user: Any) -> None:
    mallory = _make_user("mallory@desk.test", staff=True)
    mallory.display_name = '=HYPERLINK("http://evil.test","x")<script>alert(1)</script>'
    mallory.save()
    ticket(replier=mallory, assignee=mallory, reply=H)
    client = as_user(root)
    html = client.get("/agent/reports/").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    rows = list(
        csv.reader(io.StringIO(client.get("/agent/reports/", {"format": "csv"}).content.decode("utf-8-sig")))
    )
    names = {r[1] for r in rows if r[0].startswith("agent_")}
    assert names == {"'" + mallory.display_name}


def _points(svg: str) -> list[tuple[float, float]]:
    found = re.search(r'<polyline points="([^"]*)"', svg)
    assert found, svg
    return [tuple(map(float, p.split(","))) for p in found.group(1).split()]  # type: ignore[misc]


@pytest.mark.parametrize("span", [1, 30, 90])
def test_every_day_of_the_period_is_a_point(db: None, root: Any, as_user: Any, span: int) -> None:
    end = timezone.localdate()
    # Tickets on the last day only (and on the first, for a longer period): the days between
    # are zeros on the line, not missing.
    noon = timezone.make_aware(datetime.combine(end, datetime.min.time())) + 12 * H
    ticket(created=noon)
    ticket(created=noon)
    if span > 1:
        ticket(created=noon - (span - 1) * 24 * H)
    start = end - timedelta(days=span - 1)
    report = metrics.build(root, metrics.Filters(start=start, end=end))
    assert [d for d, _ in report.daily] == [start + timedelta(days=i) for i in range(span)]
    assert report.daily[-1][1] == 2 and sum(n for _, n in report.daily) == (2 if span == 1 else 3)
    html = (
        as_user(root)
        .get("/agent/reports/", {"start": start.isoformat(), "end": end.isoformat()})
        .content.decode()
    )
    svg = html[html.index('<svg class="chart line"') :]
    svg = svg[: svg.index("</svg>")]
    points = _points(svg)
    assert len(points) == (2 if span == 1 else span)  # one day: a level line across the plot
    assert f'data-points="{span}"' in svg and svg.count("<circle") == span
    assert len({y for _, y in points}) == (1 if span == 1 else 3)  # 2, 0 (the gap), 1
    table = html[html.index('data-testid="daily-table"') :]
    assert table[: table.index("</table>")].count('<th scope="row">') == span
    assert 'class="axis-title"' in svg and end.strftime("%m-%d") in svg


def test_an_empty_period_is_a_flat_line_with_a_note(db: None, root: Any, as_user: Any) -> None:
    html = as_user(root).get("/agent/reports/", {"start": "2020-01-01", "end": "2020-01-30"}).content.decode()
    svg = html[html.index('<svg class="chart line"') :]
    points = _points(svg[: svg.index("</svg>")])
    assert len(points) == 30 and len({y for _, y in points}) == 1
    assert "No tickets in this period." in html and 'data-testid="agent-row"' not in html


def test_daily_chart_shape() -> None:
    days = [(date(2026, 12, 30) + timedelta(days=i), i % 3) for i in range(5)]
    svg = charts.daily_chart(days, title="<t>", x_label="<x>", y_label="<y>")
    assert "<t>" not in svg and "&lt;x&gt;" in svg and "&lt;y&gt;" in svg
    assert "2026-12-30" in svg and "2027-01-03" in svg  # across a year end: full dates
    assert charts.daily_chart([], title="t", x_label="x", y_label="y") == ""
    # The y axis tops at an even number at least the peak, so its middle tick is whole.
    assert [charts._nice(n) for n in (0, 1, 2, 3, 7)] == [2, 2, 2, 4, 8]
    assert charts._ticks(90) == [0, 18, 36, 53, 71, 89] and charts._ticks(3) == [0, 1, 2]
