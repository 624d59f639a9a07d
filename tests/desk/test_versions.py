"""Two agents on one ticket never overwrite each other (#18, live desk): every change carries
the ticket's version it was made from, through the desk's pages and through the API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from walletdesk.accounts.actions import issue_api_token
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Message, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob2() -> Any:
    """A second agent of the general team (the shared `bob` is on the security desk)."""
    from tests.conftest import _make_user

    return _make_user("bob@general.test", staff=True, teams=("general",))


def new_ticket(**kw: Any) -> Ticket:
    return actions.create_ticket(
        NewTicket(
            subject="Need help",
            body="The app shows error 1003",
            category="other",
            email="guest@example.com",
            **kw,
        )
    )


def page_version(html: str) -> str:
    found = re.findall(r'name="version" value="(\d+)"', html)
    assert found and len(set(found)) == 1, found
    return found[0]


def props(ticket: Ticket, **changes: Any) -> dict[str, Any]:
    """The properties form as the page fills it in, with these changes."""
    data = {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "team": ticket.team_id or "",
    }
    data.update(changes)
    return data


def open_page(client: Client, ticket: Ticket) -> str:
    page = client.get(f"/agent/tickets/{ticket.reference}/")
    assert page.status_code == 200
    return page_version(page.content.decode())


# --- the model -------------------------------------------------------------------------------


def test_a_new_ticket_is_version_1_and_every_change_moves_it_in_the_same_update(alice: Any) -> None:
    ticket = new_ticket()
    batch = actions.create_tickets(
        [NewTicket(subject="s", body="b", email=f"g{i}@example.com", category="other") for i in range(3)]
    )
    assert ticket.version == 1 and {t.version for t in batch} == {1}
    assert Ticket.objects.get(pk=ticket.pk).version == 1
    ticket = actions.change_priority(ticket, "high", actor=alice)
    assert ticket.version == 2 == Ticket.objects.get(pk=ticket.pk).version
    actions.change_priority(ticket, "high", actor=alice)  # no change, no new version
    assert Ticket.objects.get(pk=ticket.pk).version == 2
    actions.add_customer_message(ticket, "more details", channel="web")
    assert Ticket.objects.get(pk=ticket.pk).version == 3
    event = TicketEvent.objects.filter(ticket=ticket, kind="customer_replied").get()
    assert event.data["version"] == 3


# --- the desk's pages --------------------------------------------------------------------------


def test_a_stale_properties_form_does_not_reopen_a_solved_ticket(alice: Any, bob2: Any, as_user: Any) -> None:
    ticket = new_ticket()
    a, b = as_user(alice), as_user(bob2)
    seen_by_alice = open_page(a, ticket)
    seen_by_bob = open_page(b, ticket)
    assert seen_by_alice == seen_by_bob

    solved = b.post(
        f"/agent/tickets/{ticket.reference}/update/", props(ticket, status="solved", version=seen_by_bob)
    )
    assert solved.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    mails = len(mail.outbox)
    assert any("guest@example.com" in m.to for m in mail.outbox)  # the customer was told

    # Alice's page still shows "open"; she raises the priority and saves: it would reopen it.
    stale = a.post(
        f"/agent/tickets/{ticket.reference}/update/",
        props(ticket, status="open", priority="high", version=seen_by_alice),
    )
    assert stale.status_code == 409
    html = stale.content.decode()
    assert 'data-testid="stale"' in html
    assert re.search(r"changed by Bob \d+ s ago: status Solved", html), html
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.SOLVED, "normal")
    assert len(mail.outbox) == mails  # no extra mail
    assert not TicketEvent.objects.filter(ticket=ticket, actor=alice).exists()
    # The page shown again is the ticket as it is now, with its current version.
    assert page_version(html) == str(ticket.version)
    assert 'value="solved" selected' in html

    # Having seen it, she makes her change again from the version she now has.
    again = a.post(
        f"/agent/tickets/{ticket.reference}/update/",
        props(ticket, priority="high", version=page_version(html)),
    )
    assert again.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.SOLVED, "high")


def test_a_stale_reply_asks_for_a_confirmation_and_keeps_what_was_typed(
    alice: Any, bob2: Any, as_user: Any
) -> None:
    ticket = new_ticket()
    a, b = as_user(alice), as_user(bob2)
    seen_by_alice = open_page(a, ticket)
    reply_url = f"/agent/tickets/{ticket.reference}/reply/"
    assert b.post(reply_url, {"body": "Bob's answer", "version": open_page(b, ticket)}).status_code == 302
    mails = len(mail.outbox)

    asked = a.post(reply_url, {"body": "Alice's answer", "version": seen_by_alice})
    assert asked.status_code == 409
    html = asked.content.decode()
    assert 'data-testid="reply-collision"' in html and 'data-testid="send-anyway"' in html
    assert re.search(r"changed by Bob \d+ s ago: replied to the customer", html), html
    assert "Alice&#x27;s answer</textarea>" in html  # the reply as typed
    assert "Bob&#x27;s answer" in html  # the thread shows what Bob said
    assert not Message.objects.filter(ticket=ticket, author_user=alice).exists()
    assert len(mail.outbox) == mails

    # "Send anyway" carries the version she has now seen.
    current = page_version(html)
    assert current == str(Ticket.objects.get(pk=ticket.pk).version)
    sent = a.post(reply_url, {"body": "Alice's answer", "version": current})
    assert sent.status_code == 302
    assert Message.objects.filter(ticket=ticket, author_user=alice).count() == 1
    assert len(mail.outbox) == mails + 1


def test_a_reply_goes_through_a_change_that_is_not_a_reply_unless_it_sets_the_status(
    alice: Any, bob2: Any, as_user: Any
) -> None:
    ticket = new_ticket()
    a = as_user(alice)
    seen = open_page(a, ticket)
    actions.change_status(ticket, Status.SOLVED, actor=bob2)
    reply_url = f"/agent/tickets/{ticket.reference}/reply/"
    # A reply that would set the status back over Bob's change: refused, kept.
    refused = a.post(reply_url, {"body": "Still looking", "status": "pending", "version": seen})
    assert refused.status_code == 409
    html = refused.content.decode()
    assert re.search(r"changed by Bob \d+ s ago: status Solved", html) and "Still looking</textarea>" in html
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED
    # A plain internal note is no collision.
    note = a.post(reply_url, {"body": "checked the logs", "internal": "on", "version": seen})
    assert note.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED


def test_forged_versions_on_the_desk(alice: Any, as_user: Any) -> None:
    ticket = new_ticket()
    a = as_user(alice)
    url = f"/agent/tickets/{ticket.reference}/update/"
    seen = int(open_page(a, ticket))
    # Higher than the ticket's: as stale as a lower one, nothing applied.
    assert a.post(url, props(ticket, status="solved", version=seen + 5)).status_code == 409
    # Not a whole number: the form is invalid, nothing applied, the agent is told.
    bad = a.post(url, props(ticket, status="solved", version="7; DROP"), follow=True)
    assert "damaged or out of date" in bad.content.decode()
    assert a.post(url, props(ticket, status="solved", version="-1")).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert Ticket.objects.get(pk=ticket.pk).version == seen
    # Left out (a page from before versions, a script): applied unchecked, as before.
    assert a.post(url, props(ticket, status="solved")).status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.SOLVED
    # A reply with a version never issued skips no check: refused, nothing sent.
    seen = int(open_page(a, ticket))
    forged = a.post(f"/agent/tickets/{ticket.reference}/reply/", {"body": "hi", "version": seen + 5})
    assert forged.status_code == 409
    assert not Message.objects.filter(ticket=ticket, author_user=alice).exists()
    # "Assign to me" carries it too.
    take = a.post(f"/agent/tickets/{ticket.reference}/take/", {"version": seen - 1})
    assert take.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


def test_an_agent_of_another_team_still_gets_404(alice: Any, carol: Any, as_user: Any) -> None:
    secure = actions.create_ticket(
        NewTicket(subject="Stolen", body="someone took it", category="account_stolen", user=carol)
    )
    a = as_user(alice)
    url = f"/agent/tickets/{secure.reference}/update/"
    assert a.post(url, props(secure, status="solved", version=secure.version)).status_code == 404
    assert a.post(url, props(secure, status="solved", version=99)).status_code == 404
    headers = {"Authorization": f"Bearer {issue_api_token(alice, 'test')}", "If-Match": '"1"'}
    api = f"/api/v1/tickets/{secure.reference}"
    assert Client().get(api, headers=headers).status_code == 404
    assert patch(api, {"status": "solved"}, headers).status_code == 404
    assert patch(api, {"status": "solved"}, {**headers, "If-Match": "nope"}).status_code == 404
    assert Ticket.objects.get(pk=secure.pk).status == secure.status


# --- the API -----------------------------------------------------------------------------------


def patch(url: str, data: dict[str, Any], headers: dict[str, str]) -> Any:
    return Client().patch(url, data=json.dumps(data), content_type="application/json", headers=headers)


def post(url: str, data: dict[str, Any], headers: dict[str, str]) -> Any:
    return Client().post(url, data=json.dumps(data), content_type="application/json", headers=headers)


def test_api_etag_and_if_match(alice: Any, bob2: Any) -> None:
    ticket = new_ticket()
    url = f"/api/v1/tickets/{ticket.reference}"
    alice_h = {"Authorization": f"Bearer {issue_api_token(alice, 'test')}"}
    bob_h = {"Authorization": f"Bearer {issue_api_token(bob2, 'test')}"}
    read = Client().get(url, headers=alice_h)
    assert read.status_code == 200
    etag = read.headers["ETag"]
    assert etag == f'"{read.json()["version"]}"' == '"1"'

    solved = patch(url, {"status": "solved"}, {**bob_h, "If-Match": etag})
    assert solved.status_code == 200, solved.content
    assert solved.json()["version"] == 2 and solved.headers["ETag"] == '"2"'
    mails = len(mail.outbox)

    stale = patch(url, {"status": "open", "priority": "high"}, {**alice_h, "If-Match": etag})
    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "stale" and body["version"] == 2
    assert re.search(r"changed by Bob \d+ s ago: status Solved", body["message"]), body
    assert body["changes"][0]["who"] == "Bob" and body["changes"][0]["what"] == "status Solved"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.version) == (Status.SOLVED, "normal", 2)
    assert len(mail.outbox) == mails

    # The body's version works like If-Match; weak tags are accepted.
    assert patch(url, {"priority": "high", "version": 1}, alice_h).status_code == 409
    ok = patch(url, {"priority": "high", "status": "pending"}, {**alice_h, "If-Match": 'W/"2"'})
    assert ok.status_code == 200 and ok.json()["version"] == 4  # two changes, two versions
    assert patch(url, {"version": 4}, alice_h).status_code == 200  # an empty PATCH just checks
    assert patch(url, {"version": 3}, alice_h).status_code == 409

    # Replies: a stale If-Match sends nothing; the current one sends.
    messages = f"{url}/messages"
    refused = post(messages, {"body": "Alice here"}, {**alice_h, "If-Match": '"2"'})
    assert refused.status_code == 409 and refused.json()["code"] == "stale"
    assert not Message.objects.filter(ticket=ticket, author_user=alice).exists()
    sent = post(messages, {"body": "Alice here"}, {**alice_h, "If-Match": '"4"'})
    assert sent.status_code == 201 and sent.headers["ETag"] == f'"{sent.json()["version"]}"'


def test_api_forged_and_missing_versions(alice: Any) -> None:
    ticket = new_ticket()
    url = f"/api/v1/tickets/{ticket.reference}"
    h = {"Authorization": f"Bearer {issue_api_token(alice, 'test')}"}
    for forged in ('"99"', '"abc"', "1, 2", '"1" junk', '"-1"', '"99999999999999999999999"'):
        answer = patch(url, {"status": "solved"}, {**h, "If-Match": forged})
        assert answer.status_code in (400, 409), (forged, answer.content)
        assert answer.json()["code"] == ("stale" if forged == '"99"' else "bad_version"), forged
    assert patch(url, {"status": "solved", "version": "x"}, h).status_code == 422
    assert patch(url, {"status": "solved", "version": 2}, {**h, "If-Match": '"1"'}).status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    # No If-Match and no version: applied as before, for clients that never send one.
    assert patch(url, {"status": "solved"}, h).status_code == 200
    assert patch(url, {"status": "pending"}, {**h, "If-Match": "*"}).status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == Status.PENDING


def test_api_customer_close_and_reply_honour_if_match(carol: Any, as_user: Any) -> None:
    ticket = actions.create_ticket(NewTicket(subject="Fee", body="why", user=carol, category="fees"))
    client = as_user(carol)
    url = f"/api/v1/tickets/{ticket.reference}"
    etag = client.get(url).headers["ETag"]
    actions.add_customer_message(ticket, "one more thing", channel="web")  # from another device
    answer = client.patch(
        url,
        data=json.dumps({"status": "closed"}),
        content_type="application/json",
        headers={"If-Match": etag},
    )
    assert answer.status_code == 409 and answer.json()["code"] == "stale"
    assert "the customer replied" in answer.json()["message"]
    assert Ticket.objects.get(pk=ticket.pk).status != Status.CLOSED
    etag = client.get(url).headers["ETag"]
    answer = client.patch(
        url,
        data=json.dumps({"status": "closed"}),
        content_type="application/json",
        headers={"If-Match": etag},
    )
    assert answer.status_code == 200 and Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED


def test_the_refusal_is_in_the_agents_language(alice: Any, bob2: Any, as_user: Any) -> None:
    ticket = new_ticket()
    a = as_user(alice)
    seen = open_page(a, ticket)
    actions.change_status(ticket, Status.SOLVED, actor=bob2)
    stale = a.post(
        f"/agent/tickets/{ticket.reference}/update/",
        props(ticket, status="open", version=seen),
        headers={"Accept-Language": "zh-hans"},
    )
    assert stale.status_code == 409
    html = stale.content.decode()
    assert re.search(r"未保存：此工单在您打开后已有更改（由 Bob 于 \d+ 秒前更改：状态 已解决）", html), (
        re.findall(r"data-testid=\"stale\".{0,300}", html)
    )
