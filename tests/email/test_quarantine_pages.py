"""The quarantine page: agents see and re-process quarantined mail; nobody else does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import ingest
from walletdesk.connectors.email.models import InboundEmail, Mailbox
from walletdesk.tickets import actions
from walletdesk.tickets.models import Team, Ticket

pytestmark = pytest.mark.django_db

PHRASE = "abandon ability able about above absent absorb abstract absurd abuse access accident"


def quarantine_one(monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox | None = None) -> InboundEmail:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("temporary failure")

    with monkeypatch.context() as patch:
        patch.setattr(actions, "create_ticket", boom)
        result = ingest(make_mail("q@example.cn", body=f"我的助记词 {PHRASE}"), mailbox)
    assert result.outcome == "quarantined"
    return InboundEmail.objects.get(outcome="quarantined")


def test_anonymous_is_sent_to_login(as_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    row = quarantine_one(monkeypatch)
    for url in ("/agent/email/quarantine/", f"/agent/email/quarantine/{row.pk}/"):
        response = as_user(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert as_user(None).post(f"/agent/email/quarantine/{row.pk}/reprocess/").status_code == 302
    assert InboundEmail.objects.get(pk=row.pk).outcome == "quarantined"


def test_customers_are_refused(as_user: Any, carol: Any, dave: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    row = quarantine_one(monkeypatch)
    for customer in (carol, dave):
        client = as_user(customer)
        assert client.get("/agent/email/quarantine/").status_code == 403
        assert client.get(f"/agent/email/quarantine/{row.pk}/").status_code == 403
        assert client.post(f"/agent/email/quarantine/{row.pk}/reprocess/").status_code == 403
    assert Ticket.objects.count() == 0


def test_agent_sees_reason_and_a_redacted_preview(
    as_user: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = quarantine_one(monkeypatch)
    client = as_user(alice)
    listing = client.get("/agent/email/quarantine/").content.decode()
    assert "temporary failure" in listing
    detail = client.get(f"/agent/email/quarantine/{row.pk}/").content.decode()
    assert "temporary failure" in detail and "账户被锁定" in detail
    assert "abandon ability" not in detail  # the shield runs over the preview too


def test_agent_reprocesses_into_a_ticket(as_user: Any, alice: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    row = quarantine_one(monkeypatch)
    response = as_user(alice).post(f"/agent/email/quarantine/{row.pk}/reprocess/")
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and ticket.reference in response["Location"]
    assert "abandon ability" not in ticket.messages.get().body
    stored = InboundEmail.objects.get()
    assert stored.outcome == "created" and stored.reprocessed_at is not None


def test_restricted_team_mailbox_quarantine_is_for_its_members(
    as_user: Any, alice: Any, bob: Any, root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Mailbox.objects.create(
        name="security", host="h", username="u", default_team=Team.objects.get(slug="security")
    )
    row = quarantine_one(monkeypatch, box)
    assert as_user(alice).get(f"/agent/email/quarantine/{row.pk}/").status_code == 404
    assert "temporary failure" not in as_user(alice).get("/agent/email/quarantine/").content.decode()
    assert as_user(bob).get(f"/agent/email/quarantine/{row.pk}/").status_code == 200
    assert as_user(root).get(f"/agent/email/quarantine/{row.pk}/").status_code == 200


def test_admin_never_shows_the_mailbox_secret(as_user: Any, root: Any) -> None:
    client = as_user(root)
    response = client.post(
        "/admin/email_channel/mailbox/add/",
        {
            "name": "support",
            "host": "imap.example.test",
            "port": "993",
            "security": "ssl",
            "username": "support@example.test",
            "secret": "s3cret-app-password",
            "folder": "INBOX",
            "active": "on",
            "poll_seconds": "60",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    box = Mailbox.objects.get()
    assert box.get_secret() == "s3cret-app-password"
    assert b"s3cret" not in bytes(box.secret_encrypted)
    page = client.get(f"/admin/email_channel/mailbox/{box.pk}/change/").content.decode()
    assert "s3cret" not in page


def test_poll_task_reenqueues_itself_once(settings: Any) -> None:
    from django.tasks import default_task_backend

    from walletdesk.connectors.email import tasks

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": ["email"]}}
    default_task_backend.clear()  # type: ignore[attr-defined]
    Mailbox.objects.create(name="m", host="127.0.0.1", port=1, security="none", username="u")
    tasks.ensure_polling()
    assert len(default_task_backend.results) == 1  # type: ignore[attr-defined]
    tasks.poll_mailboxes.call()  # polls (the mailbox fails: recorded), then schedules the next run
    queued = default_task_backend.results  # type: ignore[attr-defined]
    assert len(queued) == 2 and queued[-1].task.run_after is not None
    # A second chain started meanwhile finds the lease taken and ends without re-enqueueing.
    assert tasks.poll_mailboxes.call() == "another poller holds the lease"
    assert len(default_task_backend.results) == 2  # type: ignore[attr-defined]
    assert Mailbox.objects.get().last_error
