"""Acknowledgements of a write batch go out through the email connector's batch sender.

What a customer would notice if it broke: no acknowledgement, two of them, one to the wrong
thread, a flood past the rate limit because the mails were counted together, or everybody's
acknowledgement lost because one address bounced.
"""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from django.core import mail as django_mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import ingest
from walletdesk.connectors.email.models import OutboundEmail
from walletdesk.connectors.email.outbound import thread_headers, thread_headers_of
from walletdesk.tickets import actions, tasks
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email", "sla"]}}


class BouncingBackend(LocmemBackend):
    """The test outbox, except that one address is refused; counts the connections opened."""

    refused = "bounce@example.com"
    opened = 0

    def open(self) -> bool:
        BouncingBackend.opened += 1
        return super().open() or True

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if self.refused in message.to:
                raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"no such user")})
        return super().send_messages(messages)


def _open(*emails: str) -> list[Ticket]:
    news = [NewTicket(subject=f"忘记密码 {i}", body="我忘记密码了", email=e) for i, e in enumerate(emails)]
    tickets = [t for t in actions.create_tickets(news) if isinstance(t, Ticket)]
    assert len(tickets) == len(emails)
    return tickets


def test_one_bounce_is_retried_alone_and_the_others_go_out_over_one_connection(settings: Any) -> None:
    settings.TASKS = DB_TASKS  # queued: the test runs the acknowledgement task itself
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BouncingBackend"}}
    tickets = _open("a@example.com", "bounce@example.com", "b@example.com")
    BouncingBackend.opened = 0
    result = tasks.notify_customers.call(ticket_ids=[t.pk for t in tickets], kind="created")
    assert result == "retry=1 sent=2"
    assert sorted(m.to[0] for m in django_mail.outbox) == ["a@example.com", "b@example.com"]
    assert BouncingBackend.opened == 1  # sends within a batch share one connection
    rows = {r.to_address: r for r in OutboundEmail.objects.all()}
    assert rows["a@example.com"].state == rows["b@example.com"].state == "sent"
    assert rows["a@example.com"].sent_at is not None
    bounced = rows["bounce@example.com"]
    assert bounced.state == "retry" and bounced.attempts == 1 and "550" in bounced.last_error
    # Each acknowledgement names its own ticket; a second run sends nothing more.
    for ticket, mail in zip(
        [tickets[0], tickets[2]], sorted(django_mail.outbox, key=lambda m: m.to[0]), strict=True
    ):
        assert ticket.reference in mail.subject
    again = tasks.notify_customers.call(ticket_ids=[t.pk for t in tickets], kind="created")
    assert again == "already_sent=3"
    assert len(django_mail.outbox) == 2


def test_the_rate_limit_counts_the_batch_itself(settings: Any) -> None:
    settings.TASKS = DB_TASKS
    settings.EMAIL_AUTO_REPLY_LIMIT_PER_HOUR = 2
    tickets = _open(*["same@example.com"] * 3, "other@example.com")
    result = tasks.notify_customers.call(ticket_ids=[t.pk for t in tickets], kind="created")
    assert result == "sent=3 suppressed=1"
    assert sorted(m.to[0] for m in django_mail.outbox) == ["other@example.com", *["same@example.com"] * 2]
    suppressed = OutboundEmail.objects.get(state="suppressed")
    assert suppressed.to_address == "same@example.com" and "limit 2" in suppressed.last_error


def test_no_acknowledgement_to_our_own_address_in_a_batch(settings: Any) -> None:
    settings.TASKS = DB_TASKS
    settings.DEFAULT_FROM_EMAIL = "Support <support@example.test>"
    tickets = _open("support@example.test", "c@example.com")
    assert (
        tasks.notify_customers.call(ticket_ids=[t.pk for t in tickets], kind="created")
        == "sent=1 suppressed=1"
    )
    assert [m.to[0] for m in django_mail.outbox] == ["c@example.com"]


def test_thread_headers_of_many_tickets_are_each_tickets_own() -> None:
    first = Ticket.objects.get(
        reference=ingest(make_mail("t1@example.cn", sender="x@example.cn")).ticket_reference
    )
    ingest(make_mail("t1b@example.cn", in_reply_to="t1@example.cn", sender="x@example.cn", body="补充"))
    second = Ticket.objects.get(
        reference=ingest(
            make_mail("t2@example.cn", sender="y@example.cn", subject="另一个问题")
        ).ticket_reference
    )
    web = _open("z@example.com")[0]
    together = thread_headers_of([first.pk, second.pk, web.pk])
    assert together == {t.pk: thread_headers(t) for t in (first, second, web)}
    assert together[first.pk][0] == "t1b@example.cn"
    assert together[second.pk][0] == "t2@example.cn"
    web_ack = OutboundEmail.objects.get(ticket=web).message_id_header
    assert together[web.pk] == ("", [web_ack])  # no mail from the customer; our acknowledgement
    # our acknowledgements that went out are in each ticket's own References
    ours = set(
        OutboundEmail.objects.filter(ticket=first, state="sent").values_list("message_id_header", flat=True)
    )
    assert ours and ours <= set(together[first.pk][1])
    assert not ours & set(together[second.pk][1])
