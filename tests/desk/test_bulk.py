"""Bulk actions in the inbox (#18, live desk): one POST changes the ticked tickets, each through
its action and from the version its row was rendered with; a ticket the agent may not see is
neither touched nor named."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from tests.conftest import _make_user, client_for
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Status, Team, Ticket, TicketEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

BULK = "/agent/bulk/"


def new_ticket(subject: str = "Need help", **kw: Any) -> Ticket:
    return actions.create_ticket(
        NewTicket(
            subject=subject,
            body="The app shows error 1003",
            category="other",
            email="guest@example.com",
            **kw,
        )
    )


def row(ticket: Ticket) -> str:
    ticket.refresh_from_db()
    return f"{ticket.reference}:{ticket.version}"


def flash(response: Any) -> list[str]:
    """The messages this request added (earlier ones wait in the session until shown)."""
    storage = get_messages(response.wsgi_request)
    return [str(m) for m in storage._queued_messages]  # type: ignore[attr-defined]


def inbox_rows(client: Client, query: str = "?view=all") -> dict[str, str]:
    """The checkbox values the inbox renders: reference -> "REF:version"."""
    html = client.get(f"/agent/{query}").content.decode()
    return {v.split(":")[0]: v for v in re.findall(r'name="t" value="([^"]+)"', html)}


@pytest.fixture
def security_ticket(bob: Any) -> Ticket:
    """One of bob's tickets on the Security desk, a restricted team alice is not in."""
    ticket = new_ticket("Stolen account")
    actions.set_team(ticket, Team.objects.get(slug="security"), actor=bob)
    actions.assign(ticket, bob, actor=bob)
    return Ticket.objects.get(pk=ticket.pk)


def test_the_inbox_renders_a_checkbox_per_row_with_its_version(alice: Any) -> None:
    one, two = new_ticket("one"), new_ticket("two")
    actions.change_priority(two, "high", actor=alice)
    client = client_for(alice)
    page = client.get("/agent/?view=all&sort=new")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'value="{one.reference}:1"' in html and f'value="{two.reference}:2"' in html
    assert 'name="all"' in html and 'name="csrfmiddlewaretoken"' in html
    assert 'name="back" value="view=all&amp;sort=new"' in html
    assert "<title>Inbox · walletdesk</title>" in html


def test_alice_bulk_assigns_two_and_bobs_security_ticket_slipped_in_is_refused_unnamed(
    alice: Any, bob: Any, security_ticket: Ticket
) -> None:
    one, two = new_ticket("one"), new_ticket("two")
    client = client_for(alice)
    rows = inbox_rows(client)
    assert security_ticket.reference not in rows  # she never saw it
    before = Ticket.objects.get(pk=security_ticket.pk)
    events = TicketEvent.objects.filter(ticket=security_ticket).count()
    response = client.post(
        BULK,
        {
            "op": "assign_me",
            "t": [rows[one.reference], row(security_ticket), rows[two.reference]],
            "back": "view=all&status=new&next=https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/agent/?view=all&status=new"  # same view, only inbox params
    for t in (one, two):
        assert Ticket.objects.get(pk=t.pk).assignee_id == alice.pk
    after = Ticket.objects.get(pk=security_ticket.pk)
    assert (after.assignee_id, after.version, after.updated_at) == (bob.pk, before.version, before.updated_at)
    assert TicketEvent.objects.filter(ticket=security_ticket).count() == events
    [message] = flash(response)
    assert message.startswith("2 tickets updated")
    assert "1 selected ticket was not found" in message
    assert security_ticket.reference not in message and "Stolen" not in message
    # The same answer for a reference that does not exist at all.
    response = client.post(BULK, {"op": "assign_me", "t": [row(one), "WD-000000-ZZZZZZ:1"]})
    assert flash(response) == ["1 ticket updated; 1 selected ticket was not found."]


def test_bulk_assign_to_an_agent_set_status_and_team(alice: Any) -> None:
    erin = _make_user("erin@desk.test", staff=True)
    one, two = new_ticket("one"), new_ticket("two")
    client = client_for(alice)
    response = client.post(BULK, {"op": "assign", "assignee": erin.pk, "t": [row(one), row(two)]})
    assert flash(response) == ["2 tickets updated."]
    assert set(Ticket.objects.filter(pk__in=[one.pk, two.pk]).values_list("assignee", flat=True)) == {erin.pk}
    response = client.post(BULK, {"op": "status", "status": "pending", "t": [row(one), row(two)]})
    assert flash(response) == ["2 tickets updated."]
    assert set(Ticket.objects.filter(pk__in=[one.pk, two.pk]).values_list("status", flat=True)) == {"pending"}
    billing = Team.objects.create(slug="billing", name="Billing")
    response = client.post(BULK, {"op": "team", "team": billing.pk, "t": [row(one)]})
    assert flash(response) == ["1 ticket updated."]
    assert Ticket.objects.get(pk=one.pk).team_id == billing.pk
    # A choice missing for the action: nothing applied, said why.
    response = client.post(BULK, {"op": "status", "status": "", "t": [row(two)]})
    assert flash(response) == ["Choose the status to set."]


def test_select_all_on_the_page_works_without_js(alice: Any) -> None:
    one, two = new_ticket("one"), new_ticket("two")
    client = client_for(alice)
    rows = inbox_rows(client)
    response = client.post(
        BULK, {"op": "status", "status": "on_hold", "all": "1", "page": list(rows.values())}
    )
    assert flash(response) == ["2 tickets updated."]
    assert {Ticket.objects.get(pk=t.pk).status for t in (one, two)} == {"on_hold"}


def test_a_stale_row_is_refused_with_who_changed_it_and_the_others_applied(alice: Any) -> None:
    bob2 = _make_user("bob@general.test", staff=True, teams=("general",))
    one, two, three, four = (new_ticket(s) for s in ("one", "two", "three", "four"))
    client = client_for(alice)
    rows = inbox_rows(client)
    actions.change_status(two, Status.SOLVED, actor=bob2)  # after alice's inbox was rendered
    response = client.post(
        BULK,
        {"op": "status", "status": "pending", "t": [rows[t.reference] for t in (one, two, three, four)]},
    )
    assert response.status_code == 302
    assert flash(response) == [
        f"3 tickets updated; 1 not changed: {two.reference} was changed by Bob meanwhile."
    ]
    assert Ticket.objects.get(pk=two.pk).status == Status.SOLVED  # not overwritten
    assert {Ticket.objects.get(pk=t.pk).status for t in (one, three, four)} == {"pending"}


def test_merge_three_into_one(alice: Any) -> None:
    target, a, b, c = (new_ticket(s) for s in ("target", "dup a", "dup b", "dup c"))
    client = client_for(alice)
    rows = inbox_rows(client)
    response = client.post(
        BULK,
        {
            "op": "merge",
            "merge_into": target.reference,
            "t": [rows[t.reference] for t in (a, target, b, c)],
        },
    )
    assert flash(response) == [f"3 tickets merged into {target.reference}."]
    for source in (a, b, c):
        source = Ticket.objects.get(pk=source.pk)
        assert source.merged_into_id == target.pk and source.status == Status.CLOSED
    assert Message.objects.filter(ticket=target).count() == 4
    assert Ticket.objects.get(pk=target.pk).version == 4  # one step per merge, none lost


def test_merge_refuses_a_stale_target_and_a_target_not_among_the_selected(alice: Any) -> None:
    bob2 = _make_user("bob@general.test", staff=True, teams=("general",))
    target, a, b = (new_ticket(s) for s in ("target", "dup a", "dup b"))
    client = client_for(alice)
    rows = inbox_rows(client)
    response = client.post(BULK, {"op": "merge", "merge_into": target.reference, "t": [rows[a.reference]]})
    assert flash(response) == ["Choose which of the selected tickets to merge into."]
    actions.change_priority(target, "high", actor=bob2)
    response = client.post(
        BULK,
        {"op": "merge", "merge_into": target.reference, "t": [rows[t.reference] for t in (target, a, b)]},
    )
    [message] = flash(response)
    assert message.startswith("0 tickets updated; 3 not changed: ")
    assert f"{target.reference} was changed by Bob meanwhile" in message
    assert not Ticket.objects.filter(merged_into=target).exists()


def test_a_customer_and_a_guest_cannot_post_bulk(carol: Any, alice: Any) -> None:
    one = new_ticket()
    assert (
        client_for(carol).post(BULK, {"op": "status", "status": "closed", "t": [row(one)]}).status_code == 403
    )
    response = Client().post(BULK, {"op": "status", "status": "closed", "t": [row(one)]})
    assert response.status_code == 302 and "/login" in response["Location"]
    assert Ticket.objects.get(pk=one.pk).status == Status.NEW


def test_csrf_is_enforced(alice: Any) -> None:
    one = new_ticket()
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    assert client.post(BULK, {"op": "assign_me", "t": [row(one)]}).status_code == 403
    assert Ticket.objects.get(pk=one.pk).assignee_id is None
    html = client.get("/agent/?view=all").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token
    response = client.post(BULK, {"op": "assign_me", "t": [row(one)], "csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302 and Ticket.objects.get(pk=one.pk).assignee_id == alice.pk


def test_a_damaged_row_applies_nothing(alice: Any) -> None:
    one, two = new_ticket("one"), new_ticket("two")
    client = client_for(alice)
    response = client.post(BULK, {"op": "assign_me", "t": [row(one), f"{two.reference}:x"]})
    assert flash(response) == ["This form was damaged or out of date."]
    response = client.post(BULK, {"op": "assign_me", "t": [two.reference]})  # no version
    assert flash(response) == ["This form was damaged or out of date."]
    assert not Ticket.objects.filter(assignee=alice).exists()


def test_the_message_is_in_the_agents_language(alice: Any) -> None:
    one = new_ticket()
    client = client_for(alice)
    client.cookies["django_language"] = "zh-hans"
    response = client.post(BULK, {"op": "assign_me", "t": [row(one)]}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    [message] = flash(response)
    assert "已更新" in message, message
