"""The desk at a million tickets (#23): what the stored sort key, the cheaper counts, the
index-backed reference search and the stored first replier must not change for a user.

- The inbox's due-time order and its view counts are the same as the old computed ones,
  across every state change that moves them (reply, pending, solved, reopened, priority,
  assignment), and an agent outside a restricted team neither sees nor counts its tickets.
- A reference typed in any case, whole or as a prefix, finds the ticket; a ticket the agent
  may not open is not found.
- The reports' figures equal a brute-force count over the same tickets.
- The generator writes what the product writes: `inbox_due` as the model computes it, the
  full-text table in step with the tickets.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import client_for
from walletdesk.desk.reports import metrics
from walletdesk.tickets import access, actions, inbox
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import (
    ACTIVE_STATUSES,
    NEVER_DUE,
    Priority,
    Status,
    Team,
    Ticket,
    inbox_due_of,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def new_ticket(subject: str, category: str = "other", email: str = "guest@example.com") -> Ticket:
    return actions.create_ticket(
        NewTicket(subject=subject, body="The app shows error 1003", category=category, email=email)
    )


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def old_sort_key(ticket: Ticket) -> Any:
    """What the inbox sorted by before #23 (a CASE in SQL), worked out in Python."""
    if ticket.status in (Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED):
        due = None
    elif ticket.first_replied_at is None:
        due = ticket.first_reply_due
    else:
        due = ticket.next_reply_due
    return (due or NEVER_DUE, ticket.pk)


def inbox_refs(client: Client, query: str) -> list[str]:
    html = client.get(f"/agent/{query}").content.decode()
    return re.findall(r'name="t" value="(WD-[^:"]+):', html)


def expected_counts(user: Any) -> dict[str, int]:
    visible = [t for t in Ticket.objects.all() if access.agent_can_see(user, t)]
    active = [t for t in visible if t.status in ACTIVE_STATUSES]
    return {
        "unassigned": sum(1 for t in active if t.assignee_id is None),
        "mine": sum(1 for t in active if t.assignee_id == user.pk),
        "urgent": sum(1 for t in active if t.priority == Priority.URGENT),
        "open": len(active),
    }


def expected_order(user: Any) -> list[str]:
    visible = [
        t for t in Ticket.objects.all() if access.agent_can_see(user, t) and t.status in ACTIVE_STATUSES
    ]
    return [t.reference for t in sorted(visible, key=old_sort_key)]


def test_due_order_and_counts_follow_every_state_change(alice: Any, bob: Any, erin: Any) -> None:
    a, b, c, d = (new_ticket(f"ticket {i}") for i in "abcd")
    stolen = new_ticket("Someone stole my account", category="account_stolen", email="victim@example.com")
    assert fresh(stolen).team == Team.objects.get(slug="security")
    client = client_for(alice)

    def check() -> None:
        for t in Ticket.objects.all():
            assert t.inbox_due == inbox_due_of(t), t.reference  # the stored key is the model's
        assert inbox_refs(client, "?view=open") == expected_order(alice)
        assert {
            k: int(v) for k, v in inbox.counts(access.agent_tickets(alice), alice).items()
        } == expected_counts(alice)
        assert inbox.counts(access.agent_tickets(bob), bob) == expected_counts(bob)

    check()
    assert [r for r in inbox_refs(client, "?view=open")] == [
        a.reference,
        b.reference,
        c.reference,
        d.reference,
    ]

    # A reply moves a ticket from its first-reply due time to its next-reply one (none yet).
    actions.add_agent_message(fresh(a), "We are looking into it.", agent=alice)
    assert fresh(a).inbox_due == NEVER_DUE
    check()
    # The customer writes again: the next reply is due, and the ticket moves back up.
    actions.add_customer_message(fresh(a), "Any news?", channel="web")
    assert fresh(a).inbox_due == fresh(a).next_reply_due is not None
    check()
    actions.change_status(fresh(b), Status.PENDING, actor=alice)  # paused: to the end
    check()
    actions.change_priority(fresh(c), Priority.URGENT, actor=alice)  # due sooner, now urgent
    check()
    assert inbox_refs(client, "?view=urgent") == [c.reference]
    actions.assign(fresh(d), alice, actor=alice)
    check()
    assert inbox_refs(client, "?view=mine") == [d.reference]
    actions.change_status(fresh(d), Status.SOLVED, actor=alice)  # leaves every active view
    check()
    assert d.reference not in inbox_refs(client, "?view=open")
    actions.change_status(fresh(d), Status.OPEN, actor=alice)  # reopened: back, in due order
    check()
    actions.change_status(fresh(b), Status.OPEN, actor=alice)
    check()

    # Keyset pages by due time cover every row once, in order, across the cursor.
    rows, cursor = inbox.page_by_due(
        access.agent_tickets(alice).filter(status__in=ACTIVE_STATUSES), cursor=None, limit=2
    )
    more, _ = inbox.page_by_due(
        access.agent_tickets(alice).filter(status__in=ACTIVE_STATUSES), cursor=cursor, limit=10
    )
    assert [t.reference for t in [*rows, *more]] == expected_order(alice)

    # The Security desk's ticket: bob sees and counts it, alice and erin (no team) do not.
    assert stolen.reference in inbox_refs(client_for(bob), "?view=open")
    for outsider in (alice, erin):
        refs = inbox_refs(client_for(outsider), "?view=all")
        assert stolen.reference not in refs and a.reference in refs
        got = inbox.counts(access.agent_tickets(outsider), outsider)
        assert got == expected_counts(outsider)
        assert got["open"] == expected_counts(bob)["open"] - 1
        # Not by search either, nor by its reference.
        assert stolen.reference not in inbox_refs(client_for(outsider), "?view=all&q=stole")
        assert inbox_refs(client_for(outsider), f"?view=all&q={stolen.reference.lower()}") == []


def test_reference_search_any_case_whole_or_prefix(alice: Any) -> None:
    tickets = [new_ticket(f"ref {i}") for i in range(3)]
    client = client_for(alice)
    ref = tickets[1].reference
    for typed in (ref, ref.lower(), f"  {ref.lower()} "):
        assert inbox_refs(client, f"?view=all&q={typed.strip()}") == [ref]
    # A prefix (the day part) finds every ticket of that day, newest first.
    day = ref[:9]
    assert inbox_refs(client, f"?view=all&q={day.lower()}") == [t.reference for t in reversed(tickets)]
    # Pattern characters are text, not wildcards.
    assert inbox_refs(client, "?view=all&q=WD-%25") == []
    assert inbox_refs(client, "?view=all&q=WD-_") == []


def test_reference_prefix_reads_an_index() -> None:
    """The query plan of a reference search names an index, on either database."""
    tickets = Ticket.objects.filter(inbox.reference_prefix("wd-2406"))
    sql, params = tickets.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a near-empty table: make it say
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(str(r[0]) for r in cursor.fetchall())
            assert "Index" in plan and "reference" in plan, plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(r[-1]) for r in cursor.fetchall())
            assert "USING INDEX" in plan and "reference" in plan, plan


def test_due_order_reads_the_partial_index() -> None:
    """The default inbox order is the index's order: no sort step over the active tickets."""
    qs = inbox.only_active(Ticket.objects.all()).order_by("inbox_due", "pk")[:51]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A near-empty table: with whole-table plans priced out, the planner says whether
            # the index can give the order by itself.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(str(r[0]) for r in cursor.fetchall())
            assert "ticket_due_idx" in plan and "Sort" not in plan, plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(r[-1]) for r in cursor.fetchall())
            assert "ticket_due_idx" in plan and "TEMP B-TREE" not in plan, plan


def brute_force(tickets: list[Ticket], start: Any, end: Any) -> dict[str, Any]:
    period = [t for t in tickets if start <= t.created_at < end]

    def nearest(values: list[timedelta], p: float) -> timedelta | None:
        if not values:
            return None
        values = sorted(values)
        return values[min(len(values) - 1, max(0, round(p * (len(values) - 1))))]

    first = [t.first_replied_at - t.created_at for t in period if t.first_replied_at]
    by_agent: dict[int, list[timedelta]] = {}
    for t in period:
        if t.first_replied_at and t.first_replied_by_id:
            by_agent.setdefault(t.first_replied_by_id, []).append(t.first_replied_at - t.created_at)
    return {
        "total": len(period),
        "first_reply": (len(first), nearest(first, 0.5), nearest(first, 0.9)),
        "median_by_agent": {a: sorted(v)[(len(v) - 1) // 2] for a, v in by_agent.items()},
        "assigned": {
            a: sum(1 for t in period if t.assignee_id == a) for a in {t.assignee_id for t in period} if a
        },
        "backlog": sum(1 for t in tickets if t.status in ACTIVE_STATUSES),
    }


def test_report_figures_equal_a_brute_force_count(alice: Any, bob: Any, root: Any) -> None:
    tickets = [new_ticket(f"r{i}", email=f"r{i}@example.com") for i in range(7)]
    # Replies by two agents, some tickets solved, one reassigned after its first reply.
    for i, t in enumerate(tickets[:5]):
        agent = alice if i % 2 else root
        actions.add_agent_message(fresh(t), "On it.", agent=agent)
        actions.assign(fresh(t), agent, actor=agent)
    actions.add_agent_message(
        fresh(tickets[0]), "A second reply does not change who replied first.", agent=alice
    )
    actions.assign(fresh(tickets[1]), root, actor=root)
    actions.change_status(fresh(tickets[2]), Status.SOLVED, actor=root)
    # Spread the first replies so the medians are distinct.
    for i, t in enumerate(tickets[:5]):
        Ticket.objects.filter(pk=t.pk).update(first_replied_at=t.created_at + timedelta(minutes=10 * (i + 1)))
    today = timezone.localdate()
    filters = metrics.Filters(start=today - timedelta(days=29), end=today)
    report = metrics.build(root, filters)
    expected = brute_force(list(Ticket.objects.all()), filters.start_dt, filters.end_dt)
    assert report.total == expected["total"] == 7
    assert (report.first_reply.count, report.first_reply.median, report.first_reply.p90) == expected[
        "first_reply"
    ]
    agents = {a.agent_id: a for a in report.agents}
    for agent_id, median in expected["median_by_agent"].items():
        assert agents[agent_id].first_reply.median == median
    # First replies are credited to whoever wrote them, not to the assignee.
    assert fresh(tickets[1]).first_replied_by_id == alice.pk and fresh(tickets[1]).assignee_id == root.pk
    assert agents[alice.pk].first_reply.count == 2 and agents[root.pk].first_reply.count == 3
    for agent_id, n in expected["assigned"].items():
        assert agents[agent_id].assigned == n
    assert sum(n for _label, n in report.backlog) == expected["backlog"]


# Its own transactions, as when run from bench/scale.py: on PostgreSQL the generator drops and
# rebuilds indexes around COPY, which PostgreSQL refuses inside a test's open transaction that
# still has deferred foreign-key checks pending.
@pytest.mark.django_db(transaction=True)
def test_generator_writes_what_the_product_writes(alice: Any) -> None:
    from bench.scale_data import generate

    generate(60, log=lambda *_: None)
    tickets = list(Ticket.objects.all())
    assert len(tickets) == 60
    assert {t.language for t in tickets} == {"zh-hans", "zh-hant", "en"}
    for t in tickets:
        assert t.inbox_due == inbox_due_of(t)
        assert 2 <= t.messages.count() <= 6
    # Search reads the full-text index the generator filled: a word of a subject finds it.
    client = client_for(alice)
    hashed = next(t for t in tickets if t.tx_hash)
    assert inbox_refs(client, f"?view=all&q={hashed.tx_hash}") == [hashed.reference]
    english = next(t for t in tickets if t.language == "en" and access.agent_can_see(alice, t))
    word = max(re.findall(r"[a-z]{6,}", english.subject.lower()), key=len)
    assert english.reference in inbox_refs(client, f"?view=all&q={word}")
