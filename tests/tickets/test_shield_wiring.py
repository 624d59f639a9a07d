"""The shield where users meet it: secrets never stored, scams flagged, contacts verified."""

from __future__ import annotations

import json
import logging
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from mnemonic import Mnemonic

from walletdesk.core.models import AuditEntry
from walletdesk.registry.models import OfficialContact
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket, TicketError
from walletdesk.tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
PHRASE = Mnemonic("english").generate(128)
ZH_PHRASE = " ".join(Mnemonic("chinese_simplified").generate(128).split())


@pytest.fixture(autouse=True)
def registry() -> None:
    for kind, value in [
        ("domain", "token.im"),
        ("domain", "imtoken.com"),
        ("email", "support@token.im"),
        ("x", "@imTokenOfficial"),
    ]:
        OfficialContact.objects.create(kind=kind, value=value, label_en=value, label_zh=value)


def everything_stored() -> str:
    """Every text column a secret could leak into, plus the task queue and the audit log."""
    from django_tasks_db.models import DBTaskResult

    parts: list[str] = []
    for t in Ticket.objects.all():
        parts += [t.subject, t.search_text, json.dumps(t.flags), json.dumps(t.triage)]
    parts += [m.body + m.body_html for m in Message.objects.all()]
    parts += [json.dumps(e.data) for e in TicketEvent.objects.all()]
    parts += [json.dumps(r.args_kwargs) for r in DBTaskResult.objects.all()]
    parts += [a.reason + json.dumps(a.data) for a in AuditEntry.objects.all()]
    return "\n".join(parts)


@pytest.mark.parametrize("phrase", [PHRASE, ZH_PHRASE])
def test_a_pasted_recovery_phrase_is_never_stored_logged_or_mailed(
    settings: Any, caplog: Any, phrase: str
) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}
    }
    caplog.set_level(logging.DEBUG)
    body = f"Support asked me to confirm my wallet. My words are: {phrase}. Please unlock it."
    response = Client().post(
        "/api/v1/tickets",
        data=json.dumps({"email": "v@example.com", "subject": "unlock", "body": body}),
        content_type="application/json",
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    stored = everything_stored()
    for word_run in (phrase, " ".join(phrase.split()[:6])):
        assert word_run not in stored
        assert word_run not in caplog.text
    assert "[recovery phrase removed]" in ticket.messages.get().body
    assert "secret-removed" in ticket.tags
    assert TicketEvent.objects.filter(ticket=ticket, kind="secret_removed").exists()
    # The customer's page carries the warning; the acknowledgement mail does not echo the phrase.
    page = Client().get(response.json()["tracking_url"].split("8000", 1)[-1]).content.decode()
    assert "move your funds" in page
    assert all(phrase not in m.body for m in mail.outbox)


def test_an_agent_reply_with_a_secret_is_blocked(alice: Any) -> None:
    ticket = actions.create_ticket(NewTicket(subject="s", body="b", email="v@example.com"))
    with pytest.raises(TicketError) as err:
        actions.add_agent_message(ticket, f"Please confirm: {PHRASE}", agent=alice)
    assert err.value.code == "reply_contains_secret"
    assert not ticket.messages.filter(author_role="agent").exists()
    assert PHRASE not in everything_stored()


def test_a_risky_agent_reply_needs_an_explicit_override_and_is_logged(alice: Any, as_user: Any) -> None:
    ticket = actions.create_ticket(NewTicket(subject="s", body="b", email="v@example.com"))
    client = as_user(alice)
    risky = "Please pay the 50 USDT verification fee at https://imtoken-help.com/pay to unlock."
    first = client.post(f"/agent/tickets/{ticket.reference}/reply/", {"body": risky})
    assert first.status_code == 400
    assert "non-official link" in first.content.decode()
    assert not ticket.messages.filter(author_role="agent").exists()
    confirmed = client.post(
        f"/agent/tickets/{ticket.reference}/reply/", {"body": risky, "override_risks": "on"}
    )
    assert confirmed.status_code == 302
    event = TicketEvent.objects.get(ticket=ticket, kind="agent_replied")
    assert event.data["override"] and event.actor == alice


def test_fake_support_messages_are_flagged_with_reasons_in_the_inbox(alice: Any, as_user: Any) -> None:
    ticket = actions.create_ticket(
        NewTicket(
            subject="客服说要交解冻费",
            body="有个客服让我下载向日葵远程协助，还说24小时内不交500U解冻费就冻结账户，链接是 http://imtoken-kefu.com",
            email="v@example.com",
            language="zh",
        )
    )
    codes = {f["code"] for f in ticket.flags}
    assert {"fee_request", "remote_access", "urgency"} <= codes
    assert codes & {"lookalike_link", "unofficial_link"}
    assert "scam-signal" in ticket.tags
    inbox = as_user(alice).get("/agent/?view=all").content.decode()
    assert 'class="flag"' in inbox


@pytest.mark.parametrize(
    ("kind", "value", "status"),
    [
        ("url", "https://token.im/download", "official"),
        ("url", "https://imtoken-support.com", "impersonation"),
        ("url", "https://token.im.wallet-verify.io/login", "impersonation"),
        ("email", "support@token.im", "official"),
        ("email", "imtoken.support@gmail.com", "impersonation"),
        ("handle", "x:@imTokenOfficial", "official"),
        ("handle", "x:@imT0kenOfficial", "impersonation"),
        ("url", "https://example.org", "unknown"),
    ],
)
def test_is_this_official_page_and_api(kind: str, value: str, status: str) -> None:
    api = Client().get("/api/v1/verify", {"kind": kind, "value": value})
    assert api.status_code == 200
    assert api.json()["status"] == status
    assert api.json()["reason"]
    page = Client().get("/verify/", {"kind": kind, "value": value}).content.decode()
    assert f'data-status="{status}"' in page


def test_verify_refuses_bad_input_clearly() -> None:
    response = Client().get("/api/v1/verify", {"kind": "fax", "value": "x"})
    assert response.status_code == 422
    assert response.json()["field"] == "kind"


def test_imported_blocklists_count_and_allowlists_win(tmp_path: Path) -> None:
    config = {
        "version": 2,
        "tolerance": 1,
        "fuzzylist": [],
        "allowlist": ["imtoken.app"],
        "blocklist": ["free-usdt-airdrop.io", "imtoken.app"],
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "plain.txt").write_text("# team list\nwallet-unlock-service.net\n\n")
    out = StringIO()
    call_command("import_phishing_lists", str(tmp_path / "config.json"), "--source", "metamask", stdout=out)
    call_command("import_phishing_lists", str(tmp_path / "plain.txt"), "--source", "team", stdout=out)
    assert "blocked" in out.getvalue()

    def status(url: str) -> str:
        return str(Client().get("/api/v1/verify", {"kind": "url", "value": url}).json()["status"])

    assert status("https://free-usdt-airdrop.io/claim") == "impersonation"
    assert status("https://wallet-unlock-service.net") == "impersonation"
    assert status("https://imtoken.app") != "impersonation"
    # Importing a source again replaces it.
    (tmp_path / "plain.txt").write_text("other-domain.example\n")
    call_command("import_phishing_lists", str(tmp_path / "plain.txt"), "--source", "team", stdout=out)
    assert status("https://wallet-unlock-service.net") == "unknown"


def test_import_refuses_a_broken_list(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "import_phishing_lists", str(tmp_path / "bad.json"), "--source", "x", "--format", "metamask"
        )
