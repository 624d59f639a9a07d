"""Help-centre and agent pages: what each persona can see and do, and what bad input gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from walletdesk.registry.models import OfficialContact
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Attachment, Channel, Status, Ticket
from walletdesk.tickets.tracking import make_token

pytestmark = pytest.mark.django_db
FILES = Path(__file__).parent.parent / "fixtures" / "files"


def upload(name: str, fixture: str | None = None, data: bytes | None = None) -> SimpleUploadedFile:
    content = data if data is not None else (FILES / (fixture or name)).read_bytes()
    return SimpleUploadedFile(name, content)


def ticket_for(
    user: Any = None, *, category: str = "other", email: str = "guest@example.com", **kw: Any
) -> Ticket:
    return actions.create_ticket(
        NewTicket(
            subject="Need help",
            body="The app shows error 1003",
            category=category,
            email=None if user else email,
            user=user,
            **kw,
        )
    )


def test_home_and_contact_pages_render_in_both_languages() -> None:
    OfficialContact.objects.create(kind="domain", value="token.im", label_en="Website", label_zh="官网")
    OfficialContact.objects.create(kind="x", value="@oldhandle", label_en="Old", label_zh="旧", current=False)
    client = Client()
    assert "Contact support" in client.get("/").content.decode()
    page = client.get("/contact/").content.decode()
    assert "token.im" in page and "@oldhandle" in page and "free" in page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    zh = client.get("/contact/").content.decode()
    assert "官网" in zh
    assert 'lang="zh-Hans"' in zh


def test_request_form_asks_for_the_facts_of_the_chosen_category() -> None:
    page = Client().get("/new/?category=unauthorised_tx").content.decode()
    assert 'name="tx_hash"' in page and 'name="wallet_address"' in page
    partial = Client().get("/new/?category=login_locked", headers={"HX-Request": "true"}).content.decode()
    assert 'name="account"' in partial and 'name="app_version"' in partial
    assert "<html" not in partial
    other = Client().get("/new/?category=fees").content.decode()
    assert 'name="account"' not in other


def test_guest_submits_with_attachment_and_sees_reference_and_promise() -> None:
    response = Client().post(
        "/new/",
        {
            "category": "login_locked",
            "email": "g@example.com",
            "subject": "Locked",
            "body": "Locked out",
            "account": "g@example.com",
            "attachments": [upload("screen.png", "screenshot.png"), upload("statement.pdf")],
        },
        follow=True,
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    page = response.content.decode()
    assert ticket.reference in page
    assert "We will reply by" in page
    assert ticket.account == "g@example.com"
    kinds = sorted(Attachment.objects.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/png"]
    assert mail.outbox and ticket.reference in mail.outbox[0].subject


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("invoice.png", "disguised-executable.png")], "not a picture or PDF"),
        ([("big.png", None)], "larger than"),
    ],
)
def test_bad_attachment_is_refused_with_a_clear_error_and_nothing_is_stored(
    settings: Any, files: list[tuple[str, str | None]], message: str
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 50_000
    uploads = [
        upload(name, fixture)
        if fixture
        else upload(name, data=(FILES / "screenshot.png").read_bytes() + b"\0" * 60_000)
        for name, fixture in files
    ]
    response = Client().post(
        "/new/",
        {"category": "other", "email": "g@example.com", "subject": "s", "body": "b", "attachments": uploads},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_missing_fields_and_unknown_category_are_reported() -> None:
    response = Client().post("/new/", {"category": "nope", "email": "bad", "subject": "", "body": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="error"') >= 3
    assert Ticket.objects.count() == 0


def test_guest_tracking_link_reply_and_close() -> None:
    ticket = ticket_for()
    url = reverse("portal:track", args=[make_token(ticket.reference, ticket.contact_id)])
    client = Client()
    assert ticket.subject in client.get(url).content.decode()
    client.post(url, {"body": "Any news?", "action": "reply"})
    assert ticket.messages.filter(body="Any news?").exists()
    client.post(url, {"action": "close"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_bad_and_expired_tracking_links_are_refused(settings: Any) -> None:
    ticket = ticket_for()
    token = make_token(ticket.reference, ticket.contact_id)
    bad = Client().get(reverse("portal:track", args=[token[:-4] + "xxxx"]))
    assert bad.status_code == 403
    assert "not valid" in bad.content.decode()
    settings.TRACKING_LINK_MAX_AGE_DAYS = -1
    expired = Client().get(reverse("portal:track", args=[token]))
    assert expired.status_code == 403
    assert "expired" in expired.content.decode()


def test_my_requests_shows_only_my_tickets(carol: Any, dave: Any, as_user: Any) -> None:
    mine = ticket_for(carol)
    theirs = ticket_for(dave)
    page = as_user(carol).get("/requests/").content.decode()
    assert mine.reference in page and theirs.reference not in page
    assert as_user(carol).get(f"/requests/{theirs.reference}/").status_code == 404
    assert as_user(carol).get(f"/requests/{mine.reference}/").status_code == 200
    assert Client().get(f"/requests/{mine.reference}/").status_code == 302  # to sign-in


def test_agent_inbox_views_and_ticket_page(alice: Any, as_user: Any) -> None:
    urgent = ticket_for(category="scam_report", priority="urgent")
    normal = ticket_for(category="other")
    stranger = ticket_for(category="other", email="x@example.com")
    client = as_user(alice)
    page = client.get("/agent/?view=urgent").content.decode()
    assert urgent.reference in page and normal.reference not in page
    assert normal.reference in client.get("/agent/?view=unassigned").content.decode()
    client.post(f"/agent/tickets/{normal.reference}/take/")
    assert normal.reference in client.get("/agent/?view=mine").content.decode()
    detail = client.get(f"/agent/tickets/{normal.reference}/").content.decode()
    assert "error 1003" in detail and urgent.reference in detail  # same customer's other ticket
    assert stranger.reference not in detail


def test_agent_reply_solve_merge_and_phone_log(alice: Any, as_user: Any) -> None:
    a = ticket_for()
    b = ticket_for()
    client = as_user(alice)
    client.post(f"/agent/tickets/{a.reference}/reply/", {"body": "Try the unlock link.", "status": "solved"})
    a.refresh_from_db()
    assert a.status == Status.SOLVED and a.first_replied_at is not None
    assert any("Try the unlock link." in m.body for m in mail.outbox)
    client.post(f"/agent/tickets/{b.reference}/merge/", {"target": a.reference})
    b.refresh_from_db()
    assert b.merged_into_id == a.pk and b.status == Status.CLOSED
    assert a.messages.count() == 3
    client.post(
        "/agent/phone/",
        {
            "phone": "+86 138 0000 0000",
            "name": "Wang",
            "subject": "Called about fees",
            "body": "Asked why gas was high",
            "category": "fees",
        },
    )
    logged = Ticket.objects.get(channel=Channel.PHONE)
    assert logged.messages.get().author_role == "agent"


def test_state_changes_refuse_get(alice: Any, as_user: Any) -> None:
    t = ticket_for()
    for action in ("reply", "update", "take", "merge"):
        assert as_user(alice).get(f"/agent/tickets/{t.reference}/{action}/").status_code == 405


def test_pages_refuse_the_wrong_persona(
    carol: Any, alice: Any, bob: Any, erin: Any, root: Any, as_user: Any
) -> None:
    secure = ticket_for(carol, category="account_stolen")
    assert secure.team is not None and secure.team.restricted
    url = f"/agent/tickets/{secure.reference}/"
    assert as_user(bob).get(url).status_code == 200
    assert as_user(root).get(url).status_code == 200
    for agent in (alice, erin):
        assert as_user(agent).get(url).status_code == 404
        assert secure.reference not in as_user(agent).get("/agent/?view=all").content.decode()
        assert as_user(agent).post(f"{url}reply/", {"body": "x"}).status_code == 404
    assert as_user(carol).get(url).status_code == 403
    assert as_user(carol).get("/agent/").status_code == 403
    assert Client().get("/agent/").status_code == 302


def test_attachments_are_streamed_only_to_who_may_see_them(
    carol: Any, dave: Any, alice: Any, bob: Any, as_user: Any
) -> None:
    ticket = actions.create_ticket(
        NewTicket(
            subject="Stolen",
            body="see screenshot",
            category="account_stolen",
            user=carol,
            attachments=[
                __import__("walletdesk.tickets.files", fromlist=["check_file"]).check_file(
                    "s.png", (FILES / "screenshot.png").read_bytes()
                )
            ],
        )
    )
    item = Attachment.objects.get(message__ticket=ticket)
    url = f"/files/{item.pk}/"
    assert as_user(carol).get(url).status_code == 200
    assert as_user(bob).get(url).status_code == 200
    for who in (dave, alice, None):
        assert as_user(who).get(url).status_code == 404
    good = f"/files/{item.pk}/{make_token(ticket.reference, ticket.contact_id)}/"
    assert Client().get(good).status_code == 200
    other = ticket_for()
    assert (
        Client().get(f"/files/{item.pk}/{make_token(other.reference, other.contact_id)}/").status_code == 404
    )


def test_security_headers() -> None:
    response = Client().get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    csrf_client = Client(enforce_csrf_checks=True)
    refused = csrf_client.post(
        "/new/", {"category": "other", "email": "a@example.com", "subject": "s", "body": "b"}
    )
    assert refused.status_code == 403
