"""Two workers race for one due breach check on PostgreSQL: exactly one escalation happens."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from tests.sla.conftest import reseed
from walletdesk.sla import timers
from walletdesk.sla.models import EscalationRule, SlaCheck
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import TicketEvent


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(5))
def test_two_workers_escalate_exactly_once(transactional_db: None, postgres: None, round_: int) -> None:
    reseed()
    EscalationRule.objects.create(name="raise", action="raise_priority")
    ticket = actions.create_ticket(
        NewTicket(subject="Fee", body="Why so high?", email="g@example.com", category="fees")
    )
    timers.schedule(ticket.pk, ahead=10)  # arm the breach check too (normally armed after the warning)
    check = SlaCheck.objects.get(ticket=ticket, kind="first_reply_breach")
    at = check.run_at + timedelta(seconds=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(timers.run_check(check.pk, now=at))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(outcomes) == ["escalated:raise_priority", "not_due_or_claimed"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="escalated").count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind="priority_changed").count() == 1
    ticket.refresh_from_db()
    assert ticket.priority == "high"
