"""Every path that opens a ticket asks `tickets.access`; here the wrong person knocks on each.

Through the real HTTP client: another customer, a guest holding another ticket's link, an app
key of another app (or another user of the same app), an agent outside a restricted team, and
a non-agent on the quarantine pages. Each is refused with the answer the path always gave
(404 where a reference or id alone must reveal nothing, the bad-link page, 403, sign-in).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import ingest
from walletdesk.connectors.email.models import InboundEmail, Mailbox
from walletdesk.connectors.inapp.models import AppKey
from walletdesk.desk.models import Macro
from walletdesk.tickets import actions, identity
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.files import check_file
from walletdesk.tickets.models import Attachment, Message, Team, Ticket, TicketEvent
from walletdesk.tickets.tracking import make_token

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent.parent / "fixtures" / "files"


def screenshot() -> Any:
    return check_file("s.png", (FILES / "screenshot.png").read_bytes())


def guest(email: str = "guest@example.com", **kw: Any) -> Ticket:
    return actions.create_ticket(NewTicket(subject="Need help", body="error 1003", email=email, **kw))


def link(ticket: Ticket) -> str:
    return make_token(ticket.reference, ticket.contact_id)


def api_get(url: str, client: Client | None = None, **headers: str) -> Any:
    return (client or Client()).get(url, headers=headers)


def api_post(url: str, data: Any, client: Client | None = None, **headers: str) -> Any:
    return (client or Client()).post(
        url, data=json.dumps(data), content_type="application/json", headers=headers
    )


@pytest.fixture
def secure(carol: Any) -> Ticket:
    """Carol's stolen-account ticket: routed to the security desk (a restricted team)."""
    ticket = actions.create_ticket(
        NewTicket(subject="Stolen", body="someone took it", category="account_stolen", user=carol)
    )
    assert ticket.team is not None and ticket.team.restricted
    return ticket


# --- Tickets API -------------------------------------------------------------------------------


def test_api_refuses_another_customer_and_another_tickets_link(carol: Any, dave: Any, as_user: Any) -> None:
    mine = actions.create_ticket(NewTicket(subject="Fee", body="why", user=carol, category="fees"))
    other = guest()
    url = f"/api/v1/tickets/{mine.reference}"
    assert api_get(url, as_user(carol)).status_code == 200
    assert api_get(url, as_user(dave)).status_code == 404
    assert mine.reference not in api_get("/api/v1/tickets", as_user(dave)).content.decode()
    # A guest's link opens its own ticket, never another.
    assert api_get(url, **{"X-Tracking-Token": link(other)}).status_code == 404
    stale = make_token(mine.reference, other.contact_id)  # right reference, wrong contact
    assert api_get(url, **{"X-Tracking-Token": stale}).status_code == 404
    bad = api_get(url, **{"X-Tracking-Token": "nope"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_tracking_token"
    reply = api_post(f"{url}/messages", {"body": "let me in"}, **{"X-Tracking-Token": link(other)})
    assert reply.status_code == 404
    assert Message.objects.filter(ticket=mine).count() == 1


def test_api_guest_never_reads_internal_notes(alice: Any) -> None:
    ticket = guest()
    actions.add_agent_message(ticket, "internal: looks like fraud", agent=alice, internal=True)
    got = api_get(f"/api/v1/tickets/{ticket.reference}", **{"X-Tracking-Token": link(ticket)})
    assert got.status_code == 200
    assert "looks like fraud" not in got.content.decode()


def test_api_agent_outside_a_restricted_team(secure: Ticket, alice: Any, bob: Any, as_user: Any) -> None:
    url = f"/api/v1/tickets/{secure.reference}"
    assert api_get(url, as_user(bob)).status_code == 200
    assert api_get(url, as_user(alice)).status_code == 404
    assert secure.reference not in api_get("/api/v1/tickets?view=all", as_user(alice)).content.decode()


# --- In-app API --------------------------------------------------------------------------------


def test_inapp_another_app_and_another_app_user_are_refused() -> None:
    key = AppKey.issue("wallet-ios")[1]
    other_key = AppKey.issue("wallet-android")[1]
    new = {"message_id": "m-1", "subject": "Stuck", "body": "pending for hours"}
    created = api_post("/api/v1/inapp/tickets", new, **{"X-App-Key": key, "X-App-User": "u-1"})
    ref = created.json()["reference"]
    url = f"/api/v1/inapp/tickets/{ref}"
    assert api_get(url, **{"X-App-Key": key, "X-App-User": "u-1"}).status_code == 200
    for headers in ({"X-App-Key": other_key, "X-App-User": "u-1"}, {"X-App-Key": key, "X-App-User": "u-2"}):
        assert api_get(url, **headers).status_code == 404
        assert api_get("/api/v1/inapp/tickets", **headers).json()["items"] == []
        reply = api_post(f"{url}/messages", {"message_id": "m-9", "body": "me too"}, **headers)
        assert reply.status_code == 404
    # Another app's user 'u-1' sending the same message id is a new ticket, not a replay.
    again = api_post("/api/v1/inapp/tickets", new, **{"X-App-Key": other_key, "X-App-User": "u-1"})
    assert again.status_code == 201 and again.json()["reference"] != ref
    assert Message.objects.filter(ticket__reference=ref).count() == 1


# --- Portal: tracking links, my requests, confirm links, files ---------------------------------


def test_tracking_pages_open_only_their_own_ticket(carol: Any, dave: Any, as_user: Any) -> None:
    mine = actions.create_ticket(NewTicket(subject="Fee", body="why", user=carol, category="fees"))
    other = guest()
    assert Client().get(f"/track/{link(mine)}/").status_code == 200
    stale = make_token(mine.reference, other.contact_id)
    for token in (stale, "not-a-token"):
        assert Client().get(f"/track/{token}/").status_code == 403
        assert Client().get(f"/submitted/{token}/").status_code == 403
        assert Client().post(f"/track/{token}/", {"body": "hello"}).status_code == 403
    assert as_user(dave).get(f"/requests/{mine.reference}/").status_code == 404
    assert as_user(dave).post(f"/requests/{mine.reference}/", {"body": "hi"}).status_code == 404
    assert mine.reference not in as_user(dave).get("/requests/").content.decode()
    assert Message.objects.filter(ticket=mine).count() == 1


def test_confirm_links_and_claims_are_for_the_addresses_owner(carol: Any, dave: Any, as_user: Any) -> None:
    typed = guest(email="carol@example.com")  # someone typed carol's address
    other = guest(email="someone@example.com")
    assert as_user(dave).post(f"/requests/{typed.reference}/confirm/").status_code == 404
    assert typed.reference not in as_user(dave).get("/requests/").content.decode()
    # A confirm link names one ticket on one claim contact; pointed elsewhere it opens nothing.
    forged = identity.make_confirm_token(typed.reference, other.contact_id, "carol@example.com")
    assert Client().get(f"/confirm/{forged}/").status_code == 403
    assert Client().post(f"/confirm/{forged}/").status_code == 403
    assert Client().get("/confirm/not-a-token/").status_code == 403
    assert not TicketEvent.objects.filter(kind="identity_confirmed").exists()


def test_files_are_refused_to_the_wrong_person(
    secure: Ticket, carol: Any, dave: Any, alice: Any, bob: Any, as_user: Any
) -> None:
    public = actions.add_agent_message(secure, "see attached", agent=bob, attachments=[screenshot()])
    note = actions.add_agent_message(secure, "evidence", agent=bob, internal=True, attachments=[screenshot()])
    public_file = Attachment.objects.get(message=public)
    note_file = Attachment.objects.get(message=note)
    other = guest()
    assert as_user(carol).get(f"/files/{public_file.pk}/").status_code == 200
    assert Client().get(f"/files/{public_file.pk}/{link(secure)}/").status_code == 200
    for who in (dave, alice, None):
        assert as_user(who).get(f"/files/{public_file.pk}/").status_code == 404
    assert Client().get(f"/files/{public_file.pk}/{link(other)}/").status_code == 404
    assert Client().get(f"/files/{public_file.pk}/garbage/").status_code == 404
    # An internal note's file: its agents only, never the customer or their link.
    assert as_user(bob).get(f"/files/{note_file.pk}/").status_code == 200
    assert as_user(carol).get(f"/files/{note_file.pk}/").status_code == 404
    assert Client().get(f"/files/{note_file.pk}/{link(secure)}/").status_code == 404


# --- Follow-up ---------------------------------------------------------------------------------


def test_follow_up_refuses_another_customer_and_another_tickets_link(
    carol: Any, dave: Any, as_user: Any
) -> None:
    mine = actions.create_ticket(NewTicket(subject="Fee", body="why", user=carol, category="fees"))
    other = guest()
    assert as_user(dave).post(f"/requests/{mine.reference}/follow-up/").status_code == 404
    assert (
        Client().post(f"/track/{make_token(mine.reference, other.contact_id)}/follow-up/").status_code == 404
    )
    assert Client().post("/track/garbage/follow-up/").status_code == 403
    assert not TicketEvent.objects.filter(kind="customer_followed_up").exists()


# --- Desk --------------------------------------------------------------------------------------


def test_desk_refuses_an_agent_outside_the_restricted_team(
    secure: Ticket, alice: Any, bob: Any, as_user: Any
) -> None:
    base = f"/agent/tickets/{secure.reference}/"
    client = as_user(alice)
    assert as_user(bob).get(base).status_code == 200
    assert client.get(base).status_code == 404
    macro = Macro.objects.create(name="hi", body_en="Hello", body_zh="你好")
    posts = {
        "reply/": {"body": "x"},
        "update/": {"status": "open", "priority": "low"},
        "take/": {},
        "merge/": {"target": secure.reference},
        "macro/": {"macro": str(macro.pk), "mode": "send"},
        "account/unlock/": {"unlock-reason": "x"},
        "account/force-reset/": {"reset-reason": "x"},
        "account/reset-2fa/": {"mfa-reason": "x", "mfa-identity_check": "x"},
        "account/close-case/": {"close-reason": "x"},
    }
    for path, data in posts.items():
        assert client.post(base + path, data).status_code == 404, path
    # Nor can a ticket they see be merged into one they do not.
    mine = guest()
    client.post(f"/agent/tickets/{mine.reference}/merge/", {"target": secure.reference})
    mine.refresh_from_db()
    assert mine.merged_into_id is None
    secure.refresh_from_db()
    assert secure.assignee_id is None and Message.objects.filter(ticket=secure).count() == 1
    assert secure.reference not in client.get("/agent/?view=all").content.decode()


def test_desk_refuses_customers(secure: Ticket, carol: Any, as_user: Any) -> None:
    assert as_user(carol).get(f"/agent/tickets/{secure.reference}/").status_code == 403
    assert as_user(carol).post(f"/agent/tickets/{secure.reference}/reply/", {"body": "x"}).status_code == 403


# --- Reports -----------------------------------------------------------------------------------


def test_reports_leave_out_a_restricted_team_the_agent_is_not_in(
    secure: Ticket, alice: Any, bob: Any, carol: Any, as_user: Any
) -> None:
    guest()

    def total(user: Any, team: str = "") -> str:
        response = as_user(user).get("/agent/reports/", {"format": "csv", "team": team})
        assert response.status_code == 200
        rows = response.content.decode("utf-8-sig").splitlines()
        return next(r for r in rows if r.startswith("total,"))

    assert total(bob) == "total,tickets,2"
    assert total(alice) == "total,tickets,1"
    assert total(alice, team="security") == "total,tickets,1"  # a team they may not see is ignored
    page = as_user(alice).get("/agent/reports/").content.decode()
    assert Team.objects.get(slug="security").name not in page
    assert as_user(carol).get("/agent/reports/").status_code == 403


def test_the_reports_team_filter_lists_each_team_once(alice: Any, erin: Any, as_user: Any) -> None:
    # Two agents in General: a join on members used to list General twice in the filter.
    Team.objects.get(slug="general").members.add(erin)
    page = as_user(alice).get("/agent/reports/").content.decode()
    assert page.count('value="general"') == 1
    assert page.count('value="security"') == 0


# --- Quarantined mail --------------------------------------------------------------------------


def quarantine_one(monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox | None) -> InboundEmail:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("temporary failure")

    with monkeypatch.context() as patch:
        patch.setattr(actions, "create_ticket", boom)
        assert ingest(make_mail("q@example.cn", body="help"), mailbox).outcome == "quarantined"
    return InboundEmail.objects.get(outcome="quarantined")


def test_quarantine_refuses_non_agents_and_agents_outside_the_mailboxs_team(
    carol: Any, alice: Any, bob: Any, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Mailbox.objects.create(
        name="security", host="h", username="u", default_team=Team.objects.get(slug="security")
    )
    row = quarantine_one(monkeypatch, box)
    urls = ("/agent/email/quarantine/", f"/agent/email/quarantine/{row.pk}/")
    reprocess = f"/agent/email/quarantine/{row.pk}/reprocess/"
    for url in urls:
        assert as_user(carol).get(url).status_code == 403
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert as_user(carol).post(reprocess).status_code == 403
    assert as_user(alice).get(urls[1]).status_code == 404
    assert as_user(alice).post(reprocess).status_code == 404
    assert as_user(bob).get(urls[1]).status_code == 200
    assert InboundEmail.objects.get(pk=row.pk).outcome == "quarantined"
    assert not Ticket.objects.exists()
