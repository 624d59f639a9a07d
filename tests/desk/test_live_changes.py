"""/agent/tickets/<ref>/changes/?since=N: what the live ticket page shows in its banner after a
nudge. Who changed what since the version the page last showed, other people's changes only;
for an agent who may open the ticket, and nobody else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import _make_user, client_for
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Priority, Status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def new(category: str) -> Any:
    return actions.create_ticket(
        NewTicket(subject="Seed words leaked?", body="help", category=category, email="wang@example.com")
    )


def test_the_banner_names_who_changed_what_since_the_page_was_drawn(alice: Any) -> None:
    bob = _make_user("bob@general.test", staff=True, teams=("general",))
    ticket = new("other")
    drawn = ticket.version
    ticket = actions.change_status(ticket, Status.SOLVED, actor=bob)
    ticket = actions.change_priority(ticket, Priority.HIGH, actor=alice)  # her own: not named
    url = f"/agent/tickets/{ticket.reference}/changes/"
    answer = client_for(alice).get(url, {"since": drawn}).json()
    assert answer == {
        "version": ticket.version,
        "banner": "Bob changed this ticket: status Solved — the page was refreshed.",
    }
    assert client_for(alice).get(url, {"since": ticket.version}).json()["banner"] == ""
    assert client_for(bob).get(url, {"since": drawn}).json()["banner"] == (
        "Alice changed this ticket: priority High — the page was refreshed."
    )
    zh = client_for(alice)
    zh.cookies["django_language"] = "zh-hans"
    assert "Bob 更改了此工单：状态 已解决" in zh.get(url, {"since": drawn}).json()["banner"]
    # A malformed `since` is the current version: nothing to tell.
    assert client_for(alice).get(url, {"since": "1; drop"}).json()["banner"] == ""


def test_only_an_agent_who_may_open_the_ticket_gets_an_answer(alice: Any, bob: Any, carol: Any) -> None:
    secret = new("unauthorised_tx")
    url = f"/agent/tickets/{secret.reference}/changes/"
    assert client_for(bob).get(url, {"since": 0}).status_code == 200
    # Alice (General) gets what a reference that does not exist gets.
    assert client_for(alice).get(url, {"since": 0}).status_code == 404
    assert client_for(alice).get("/agent/tickets/WD-000000-NOPE00/changes/").status_code == 404
    assert client_for(carol).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 302
