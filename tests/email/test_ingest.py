"""ingest(): the one door for inbound mail. Corpus, idempotency, threading, loops, attachments."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from django.core import mail as django_mail
from django.core.mail import EmailMultiAlternatives

from walletdesk.connectors.email import IngestResult, ingest
from walletdesk.connectors.email.models import InboundEmail, Mailbox, OutboundEmail
from walletdesk.tickets import actions
from walletdesk.tickets.models import Message, Status, Team, Ticket, TicketEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
CORPUS = sorted(FIXTURES.glob("*.eml"))
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)

pytestmark = pytest.mark.django_db


def make_mail(
    message_id: str | None = "m1@example.cn",
    *,
    subject: str = "账户被锁定，请帮忙解锁",
    body: str = "我的钱包账户被锁定了，怎么办？",
    sender: str = "李雷 <lilei@example.cn>",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "support@example.test"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg["Date"] = "Sat, 01 Jun 2024 15:04:05 +0800"
    msg.set_content(body)
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


# --- corpus -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_fixture_is_stored_ignored_or_quarantined_with_a_reason(path: Path) -> None:
    raw = path.read_bytes()
    result = ingest(raw)  # an exception escaping here fails the test
    assert isinstance(result, IngestResult)
    assert result.kept
    if result.outcome in ("created", "appended", "duplicate"):
        assert result.ticket_reference
        ticket = Ticket.objects.get(reference=result.ticket_reference)
        assert ticket.messages.filter(channel="email").exists()
    else:
        assert result.outcome in ("ignored", "quarantined")
        assert result.reason
    # Whatever happened, the original bytes are kept, byte for byte.
    row = InboundEmail.objects.get(sha256=__import__("hashlib").sha256(raw).hexdigest())
    assert row.raw == raw
    assert row.outcome == result.outcome


def test_corpus_outcomes_are_the_expected_ones() -> None:
    outcomes = {p.name: ingest(p.read_bytes()) for p in CORPUS}
    ignored = {name for name, r in outcomes.items() if r.outcome == "ignored"}
    assert {
        "dsn_bounce.eml",
        "vacation_auto_replied.eml",
        "x_autoreply.eml",
        "read_receipt_mdn.eml",
    } <= ignored
    assert "auto_submitted_no.eml" not in ignored  # Auto-Submitted: no is a person
    quarantined = {name for name, r in outcomes.items() if r.outcome == "quarantined"}
    assert quarantined <= {
        "empty.eml",
        "whitespace_only.eml",
        "no_headers_body_only.eml",
        "headers_only.eml",
    }, quarantined
    # Bad or mislabelled charsets still become readable tickets.
    for name in ("mislabelled_utf8_is_gbk.eml", "unknown_charset_x_unknown.eml", "gb2312_foxmail.eml"):
        assert outcomes[name].outcome in ("created", "appended"), (name, outcomes[name])


def test_the_same_mail_twice_is_a_duplicate() -> None:
    raw = make_mail("dup@example.cn")
    first = ingest(raw)
    second = ingest(raw)
    assert first.outcome == "created"
    assert second.outcome == "duplicate" and second.ticket_reference == first.ticket_reference
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert InboundEmail.objects.count() == 1


def test_a_mail_without_message_id_is_deduplicated_by_content() -> None:
    raw = make_mail(None)
    assert ingest(raw).outcome == "created"
    assert ingest(raw).outcome == "duplicate"
    assert Ticket.objects.count() == 1


def test_garbage_is_quarantined_with_its_bytes() -> None:
    result = ingest(b"   \r\n  ")
    assert result.outcome == "quarantined" and "empty" in result.reason
    assert InboundEmail.objects.get(outcome="quarantined").raw == b"   \r\n  "


def test_an_unexpected_error_quarantines_instead_of_escaping(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(actions, "create_ticket", boom)
    result = ingest(make_mail("boom@example.cn"))
    assert result.outcome == "quarantined" and "database hiccup" in result.reason
    assert Ticket.objects.count() == 0
    assert InboundEmail.objects.get().outcome == "quarantined"


def test_no_sender_is_quarantined() -> None:
    raw = b"Subject: hello\r\nMessage-ID: <nosender@x>\r\n\r\nbody\r\n"
    result = ingest(raw)
    assert result.outcome == "quarantined" and "sender" in result.reason


# --- the shield and the ticket ----------------------------------------------------------------

PHRASE = "abandon ability able about above absent absorb abstract absurd abuse access accident"


def test_inbound_text_passes_the_shield() -> None:
    result = ingest(make_mail("seed@example.com", subject="help", body=f"my words are {PHRASE} please help"))
    ticket = Ticket.objects.get(reference=result.ticket_reference)
    body = ticket.messages.get().body
    assert "abandon ability" not in body
    assert "secret-removed" in ticket.tags
    assert ticket.channel == "email" and ticket.contact.email == "lilei@example.cn"
    assert ticket.language == "en"


def test_chinese_mail_gets_a_chinese_ticket_and_acknowledgement() -> None:
    result = ingest(make_mail("zh@example.cn"))
    ticket = Ticket.objects.get(reference=result.ticket_reference)
    assert ticket.language == "zh-hans" and ticket.subject == "账户被锁定，请帮忙解锁"
    (ack,) = django_mail.outbox
    assert f"[{ticket.reference}]" in ack.subject and "收到" in ack.subject
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["In-Reply-To"] == "<zh@example.cn>"
    out = OutboundEmail.objects.get()
    assert ack.extra_headers["Message-ID"] == f"<{out.message_id_header}>"
    assert out.state == "sent" and out.automatic
    assert isinstance(ack, EmailMultiAlternatives)
    (html,) = ack.alternatives
    content, mimetype = html
    assert mimetype == "text/html" and ticket.reference in str(content)


def test_mailbox_defaults_apply() -> None:
    team = Team.objects.get(slug="security")
    box = Mailbox.objects.create(name="sec", host="h", username="u", default_team=team)
    result = ingest(make_mail("team@example.cn"), box)
    assert Ticket.objects.get(reference=result.ticket_reference).team == team
    assert InboundEmail.objects.get().mailbox == box


# --- threading --------------------------------------------------------------------------------


def test_reply_threads_by_our_message_id_and_reopens_a_solved_ticket(alice: Any) -> None:
    first = ingest(make_mail("t1@example.cn"))
    ticket = Ticket.objects.get(reference=first.ticket_reference)
    reply = actions.add_agent_message(ticket, "请先尝试解锁链接。", agent=alice, new_status=Status.SOLVED)
    sent = OutboundEmail.objects.get(message=reply)
    assert sent.in_reply_to == "t1@example.cn" and not sent.automatic
    assert "t1@example.cn" in sent.references.split()
    answer = ingest(
        make_mail(
            "t2@example.cn", subject="Re: whatever", in_reply_to=sent.message_id_header, body="还是不行"
        )
    )
    assert answer.outcome == "appended" and answer.ticket_reference == ticket.reference
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_thread_headers_answer_the_latest_mail_and_carry_the_recent_thread() -> None:
    """In-Reply-To is the customer's latest Message-ID; References the latest ten of theirs and
    of ours that went out, oldest first; not a content-hash key, not one of ours that failed."""
    from datetime import timedelta

    from django.utils import timezone

    from walletdesk.connectors.email.outbound import thread_headers

    ticket = Ticket.objects.get(reference=ingest(make_mail("c0@example.cn")).ticket_reference)
    start = timezone.now() - timedelta(days=1)
    for i in range(1, 13):
        Message.objects.create(
            ticket=ticket, author_role="customer", channel="email", external_id=f"c{i}@example.cn",
            body="…", created_at=start + timedelta(minutes=2 * i),
        )  # fmt: skip
        OutboundEmail.objects.create(
            ticket=ticket, kind="reply", message_id_header=f"o{i}@desk.example", to_address="x@example.cn",
            subject="…", state="sent" if i != 12 else "failed", created_at=start + timedelta(minutes=2 * i + 1),
        )  # fmt: skip
    Message.objects.create(
        ticket=ticket, author_role="customer", channel="email", external_id="sha256:" + "0" * 64,
        body="…", created_at=start + timedelta(hours=1),
    )  # fmt: skip
    # The first mail and its acknowledgement, older than the rest.
    Message.objects.filter(external_id="c0@example.cn").update(created_at=start)
    OutboundEmail.objects.filter(kind="created").update(created_at=start)
    in_reply_to, references = thread_headers(ticket)
    assert in_reply_to == "c12@example.cn"
    customers = [f"c{i}@example.cn" for i in range(3, 13)]
    ours = [f"o{i}@desk.example" for i in range(1, 12)][-10:]
    expected = sorted(customers + ours, key=lambda mid: (int(mid[1:].split("@")[0]), mid[0] == "o"))
    assert references == expected


def test_reply_threads_by_references_to_the_customers_own_mail() -> None:
    first = ingest(make_mail("r1@example.cn"))
    second = ingest(make_mail("r2@example.cn", references="<unknown@x> <r1@example.cn>", body="补充一下"))
    assert second.outcome == "appended" and second.ticket_reference == first.ticket_reference


def test_reply_threads_by_reference_in_subject_only_from_the_same_contact() -> None:
    first = ingest(make_mail("s1@example.cn"))
    ref = first.ticket_reference
    same = ingest(make_mail("s2@example.cn", subject=f"Re: [{ref}] 账户", body="补充"))
    assert same.outcome == "appended" and same.ticket_reference == ref
    stranger = ingest(make_mail("s3@example.cn", subject=f"[{ref}] hi", sender="eve@evil.test", body="x"))
    assert stranger.outcome == "created" and stranger.ticket_reference != ref


def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(carol: Any) -> None:
    first = ingest(make_mail("c1@example.cn"))
    old = Ticket.objects.get(reference=first.ticket_reference)
    actions.close_by_customer(old)
    result = ingest(make_mail("c2@example.cn", in_reply_to="c1@example.cn", body="又被锁了"))
    assert result.outcome == "created" and result.ticket_reference != old.reference
    follow_up = Ticket.objects.get(reference=result.ticket_reference)
    assert follow_up.follow_up_of == old
    assert TicketEvent.objects.filter(ticket=old, kind="follow_up_opened").exists()


# --- loops and automatic mail -----------------------------------------------------------------


def test_auto_replies_are_ignored_with_a_reason() -> None:
    raw = make_mail("ooo@example.cn", headers={"Auto-Submitted": "auto-replied"}, subject="Out of office")
    result = ingest(raw)
    assert result.outcome == "ignored" and result.reason
    assert Ticket.objects.count() == 0
    row = InboundEmail.objects.get()
    assert row.outcome == "ignored" and row.reason == result.reason
    assert django_mail.outbox == []


def test_acknowledgements_are_rate_limited_per_sender(settings: Any) -> None:
    settings.EMAIL_AUTO_REPLY_LIMIT_PER_HOUR = 2
    for i in range(4):
        assert ingest(make_mail(f"flood{i}@example.cn", subject=f"question {i}")).outcome == "created"
    assert len(django_mail.outbox) == 2
    assert OutboundEmail.objects.filter(state="suppressed").count() == 2


def test_no_acknowledgement_to_our_own_address(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "Support <support@example.test>"
    ingest(make_mail("self@example.test", sender="support@example.test"))
    assert django_mail.outbox == []
    assert OutboundEmail.objects.get().state == "suppressed"


# --- attachments ------------------------------------------------------------------------------


def test_allowed_attachment_is_stored_and_a_refused_one_is_noted(settings: Any) -> None:
    raw = make_mail(
        "files@example.cn",
        attachments=[
            ("截图.png", PNG, "image/png"),
            ("wallet.exe", b"MZ\x90\x00" * 100, "application/octet-stream"),
        ],
    )
    result = ingest(raw)
    ticket = Ticket.objects.get(reference=result.ticket_reference)
    customer = ticket.messages.get(author_role="customer")
    assert [a.content_type for a in customer.attachments.all()] == ["image/png"]
    note = ticket.messages.get(author_role="system")
    assert note.visibility == "internal" and "wallet.exe" in note.body and "not a picture" in note.body
    assert (
        TicketEvent.objects.get(ticket=ticket, kind="attachment_dropped").data["files"][0]["name"]
        == "wallet.exe"
    )


def test_oversized_attachment_is_dropped_and_noted(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 50
    result = ingest(make_mail("big@example.cn", attachments=[("big.png", PNG + b"\x00" * 100, "image/png")]))
    ticket = Ticket.objects.get(reference=result.ticket_reference)
    assert not ticket.messages.get(author_role="customer").attachments.exists()
    assert "big.png" in ticket.messages.get(author_role="system").body


# --- outbound failures ------------------------------------------------------------------------


def test_a_send_that_fails_for_good_is_visible_on_the_ticket(
    settings: Any, monkeypatch: pytest.MonkeyPatch, alice: Any
) -> None:
    from django.core.mail import EmailMultiAlternatives

    settings.EMAIL_SEND_MAX_ATTEMPTS = 3
    result = ingest(make_mail("fail@example.cn"))
    ticket = Ticket.objects.get(reference=result.ticket_reference)

    def refuse(self: Any, *args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    reply = actions.add_agent_message(ticket, "Please try again.", agent=alice)
    row = OutboundEmail.objects.get(message=reply)
    assert row.state == "failed" and row.attempts == 3 and "smtp down" in row.last_error
    ticket.refresh_from_db()
    assert any(f["code"] == "email_undelivered" for f in ticket.flags)
    assert TicketEvent.objects.filter(ticket=ticket, kind="email_send_failed").exists()
    page = (
        __import__("tests.conftest", fromlist=["client_for"])
        .client_for(alice)
        .get(f"/agent/tickets/{ticket.reference}/")
    )
    assert "Email to the customer failed" in page.content.decode()


def test_a_notification_task_run_twice_sends_one_mail() -> None:
    """A task the worker runs again (it died after sending, before marking the task done)
    meets the recorded mail's dedupe key and sends nothing more."""
    from walletdesk.tickets.tasks import notify_customer

    result = ingest(make_mail("twice@example.cn"))
    ticket = Ticket.objects.get(reference=result.ticket_reference)
    assert len(django_mail.outbox) == 1
    assert notify_customer.call(ticket_id=ticket.pk, kind="created") == "already_sent"
    assert len(django_mail.outbox) == 1
    (row,) = OutboundEmail.objects.filter(ticket=ticket)
    assert row.state == "sent" and row.attempts == 1


def test_retry_backoff_is_bounded() -> None:
    from walletdesk.connectors.email.outbound import backoff

    assert backoff(1).total_seconds() == 60 and backoff(2).total_seconds() == 240
    assert backoff(20).total_seconds() == 6 * 3600


# --- pipe -------------------------------------------------------------------------------------


def test_ingest_email_command_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import io
    import sys

    from django.core.management import call_command

    raw = make_mail("pipe@example.cn")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("ingest_email")
    assert capsys.readouterr().out.startswith("created WD-")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    call_command("ingest_email")  # quarantined, exit 0
    assert "quarantined" in capsys.readouterr().out


def test_text_and_nonsense_inputs_never_raise() -> None:
    assert ingest(make_mail("text@example.cn").decode("utf-8", "surrogateescape")).outcome == "created"  # type: ignore[arg-type]
    result = ingest(None)  # type: ignore[arg-type]
    assert result.outcome == "quarantined" and not result.kept


def test_a_poller_batch_stores_like_one_by_one_without_falling_back(caplog: Any) -> None:
    """ingest_many: a new mail, its reply in the same fetch, a mail answering an unknown
    Message-ID and one naming a reference it has no right to both open tickets, and a
    garbage mail is quarantined; all in the batch path (no fallback to one by one)."""
    import logging

    from walletdesk.connectors.email.inbound import ingest_many

    first = ingest(make_mail("old@example.cn", subject="first question"))
    mails = [
        make_mail("new@example.cn", subject="lost my password"),
        make_mail("reply@example.cn", subject="Re: lost my password", in_reply_to="new@example.cn"),
        make_mail("orphan@example.cn", subject="Re: something", in_reply_to="never-seen@example.org"),
        make_mail("stranger@example.cn", subject=f"about {first.ticket_reference}", sender="x@example.org"),
        b"\x00\x01 not a mail",
    ]
    with caplog.at_level(logging.WARNING, logger="walletdesk.connectors.email.inbound"):
        results = ingest_many(mails)
    assert [r.outcome for r in results] == ["created", "appended", "created", "created", "quarantined"]
    assert results[1].ticket_reference == results[0].ticket_reference
    assert len({r.ticket_reference for r in results[:4]} | {first.ticket_reference}) == 4
    assert not [r for r in caplog.records if "one by one" in r.getMessage()]
