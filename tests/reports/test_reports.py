"""Reports: figures aggregated in the database, CSV export, and who may see them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from walletdesk.desk.reports import charts, metrics
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket


def make(
    n: int, *, category: str = "fees", channel: str = "web", reply_after: timedelta | None = None
) -> list[Ticket]:
    out = []
    for i in range(n):
        ticket = actions.create_ticket(
            NewTicket(
                subject=f"t{i}", body="b", email=f"u{i}@example.com", category=category, channel=channel
            )
        )
        if reply_after is not None:
            Ticket.objects.filter(pk=ticket.pk).update(
                first_replied_at=ticket.created_at + reply_after * (i + 1),
                first_reply_due=ticket.created_at + timedelta(hours=3),
            )
        out.append(ticket)
    return out


@pytest.fixture
def data(db: None) -> None:
    make(4, reply_after=timedelta(hours=1))  # first replies after 1, 2, 3, 4 h; due 3 h
    make(2, category="account_stolen", channel="email")  # security desk (restricted)
    ticket = make(1)[0]
    CsatSurvey.objects.create(ticket=ticket, rating="good", answered_at=timezone.now())
    CsatSurvey.objects.create(ticket=ticket, rating="bad", answered_at=timezone.now())


def test_figures(data: None, root: Any) -> None:
    today = timezone.localdate()
    report = metrics.build(root, metrics.Filters(start=today - timedelta(days=1), end=today))
    assert report.total == 7
    assert dict(report.by_channel) == {"Web": 5, "Email": 2}
    assert report.first_reply.count == 4
    assert report.first_reply.median in (timedelta(hours=2), timedelta(hours=3))
    assert report.first_reply.p90 == timedelta(hours=4)
    assert report.first_reply_sla == (3, 4)
    assert report.csat == (1, 2)
    assert sum(n for _, n in report.backlog) == 7


def test_agent_outside_restricted_team_does_not_count_its_tickets(data: None, alice: Any, bob: Any) -> None:
    today = timezone.localdate()
    assert metrics.build(alice, metrics.Filters(start=today, end=today)).total == 5
    assert metrics.build(bob, metrics.Filters(start=today, end=today)).total == 7


def test_page_query_count_does_not_grow_with_tickets(db: None, root: Any, as_user: Any) -> None:
    client = as_user(root)
    make(3, reply_after=timedelta(minutes=30))
    client.get("/agent/reports/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/agent/reports/").status_code == 200
    make(30, reply_after=timedelta(minutes=30))
    with CaptureQueriesContext(connection) as many:
        client.get("/agent/reports/")
    assert len(many) == len(few)


def test_page_and_csv(data: None, alice: Any, as_user: Any) -> None:
    client = as_user(alice)
    page = client.get("/agent/reports/", {"team": "general"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("<main")[1].split("</main>")[0]
    got = client.get("/agent/reports/", {"format": "csv"})
    assert got["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0] == ["section", "name", "value"] and ["total", "tickets", "5"] in rows
    assert any(r[0] == "deflection" for r in rows)


def test_bad_filters_fall_back(data: None, root: Any, as_user: Any) -> None:
    got = as_user(root).get("/agent/reports/", {"start": "nonsense", "end": "2020-13-40", "team": "nope"})
    assert got.status_code == 200


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_customers_are_refused(data: None, who: str, request: Any, as_user: Any) -> None:
    user = request.getfixturevalue(who)
    assert as_user(user).get("/agent/reports/").status_code == 403
    assert as_user(user).get("/agent/reports/", {"format": "csv"}).status_code == 403


def test_anonymous_is_sent_to_login(db: None) -> None:
    got = Client().get("/agent/reports/", {"format": "csv"})
    assert got.status_code == 302 and "/login" in got["Location"]


def test_charts_escape_labels() -> None:
    svg = charts.bar_chart([("<script>x</script>", 3)], title="t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert charts.daily_chart([], title="t", x_label="x", y_label="y") == ""
