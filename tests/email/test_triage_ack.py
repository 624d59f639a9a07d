"""Mail is triaged like every other channel, and the acknowledgement states the promise that
the triaged priority earned (the security desk's 24/7 policy for a stolen account)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import ingest
from walletdesk.connectors.email.models import Mailbox
from walletdesk.tickets.models import Category, Team, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def promise_in(ticket: Ticket) -> str:
    due = timezone.localtime(ticket.first_reply_due)
    return due.strftime("%Y-%m-%d %H:%M")


def ingest_one(raw: bytes, mailbox: Mailbox | None = None) -> Ticket:
    result = ingest(raw, mailbox)
    assert result.ticket_reference, result
    return Ticket.objects.select_related("category", "team").get(reference=result.ticket_reference)


def test_mails_are_triaged_and_the_acknowledgement_carries_the_promise() -> None:
    stolen = ingest_one(
        make_mail("stolen@example.cn", subject="急！账号被盗", body="我的账号被盗了，密码被改了，登录不上去")
    )
    fees = ingest_one(
        make_mail(
            "fees@example.com",
            subject="Network fee",
            body="Why is the gas fee so high when I send USDT?",
            sender="Li <li@example.com>",
        )
    )
    assert stolen.category is not None and stolen.category.slug == "account_stolen"
    assert stolen.priority == "urgent" and stolen.team is not None and stolen.team.slug == "security"
    assert fees.category is not None and fees.category.slug == "fees" and fees.priority in ("low", "normal")
    assert stolen.first_reply_due is not None and fees.first_reply_due is not None
    # The security desk's promise is minutes, the fee question's is hours.
    assert stolen.first_reply_due - stolen.created_at <= timedelta(hours=1)
    assert fees.first_reply_due - fees.created_at > timedelta(hours=1)

    acks = {m.to[0]: m for m in django_mail.outbox}
    zh, en = acks["lilei@example.cn"], acks["li@example.com"]
    assert f"[{stolen.reference}]" in zh.subject and f"[{fees.reference}]" in en.subject
    assert f"我们将在 {promise_in(stolen)}" in zh.body
    assert f"We will reply by {promise_in(fees)}" in en.body


def test_a_mailbox_default_category_does_not_hide_a_stolen_account() -> None:
    box = Mailbox.objects.create(
        name="general",
        host="h",
        username="u",
        default_category=Category.objects.get(slug="other"),
        default_team=Team.objects.get(slug="general"),
    )
    ticket = ingest_one(make_mail("hacked@example.com", subject="help", body="My account was hacked!"), box)
    assert ticket.category is not None and ticket.category.slug == "account_stolen"
    assert ticket.priority == "urgent" and ticket.team is not None and ticket.team.slug == "security"
    assert ticket.triage["customer_category"] == "other" and ticket.triage["overrode"] is True
    (ack,) = django_mail.outbox
    assert f"We will reply by {promise_in(ticket)}" in ack.body
    # A plain question in that mailbox keeps the mailbox's category and team.
    plain = ingest_one(make_mail("plain@example.com", subject="hello", body="How do I export a CSV?"), box)
    assert plain.category is not None and plain.category.slug == "other"
    assert plain.team is not None and plain.team.slug == "general"
