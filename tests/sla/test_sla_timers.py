"""Timers: each ticket schedules its own checks; a check acts once; a moved due time is stale."""

from __future__ import annotations

from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from tests.sla.conftest import frozen
from walletdesk.sla import timers as sla_tasks
from walletdesk.sla.models import EscalationRule, SlaCheck
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Team, Ticket, TicketEvent

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2025, 12, 1, 10, tzinfo=SH)  # a Monday; normal first reply = 1 business day


def make(capture: Any, at: datetime = MON_10, **kw: Any) -> Ticket:
    with frozen(at), capture(execute=True):
        return actions.create_ticket(
            NewTicket(subject="Fee", body="Why so high?", email="g@example.com", category="fees", **kw)
        )


def checks(ticket: Ticket) -> dict[str, SlaCheck]:
    """Every timer the ticket has now (arming them all, where production arms one at a time)."""
    sla_tasks.schedule(ticket.pk, ahead=10)
    return {c.kind: c for c in SlaCheck.objects.filter(ticket=ticket, claimed_at__isnull=True)}


def test_new_ticket_arms_its_next_timer_then_the_following(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make(django_capture_on_commit_callbacks)
    armed = list(SlaCheck.objects.filter(ticket=ticket))
    assert [c.kind for c in armed] == ["first_reply_warn"]  # one row per new ticket
    assert sla_tasks.run_check(armed[0].pk, now=armed[0].run_at) == "warned"
    still_open = SlaCheck.objects.filter(ticket=ticket, claimed_at__isnull=True)
    assert [c.kind for c in still_open] == ["first_reply_breach"]  # armed by the check that ran
    got = checks(ticket)
    got["first_reply_warn"] = armed[0]
    assert set(got) == {"first_reply_warn", "first_reply_breach", "resolution_warn", "resolution_breach"}
    # First reply 9 business hours from Mon 10:00 -> Tue 10:00; warn at 75 % (6 h 45 min) -> Mon 16:45.
    assert got["first_reply_breach"].run_at == datetime(2025, 12, 2, 10, tzinfo=SH)
    assert got["first_reply_warn"].run_at == datetime(2025, 12, 1, 16, 45, tzinfo=SH)


def test_checks_are_enqueued_with_run_after(
    db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": []}}
    ticket = make(django_capture_on_commit_callbacks, at=datetime.now(tz=SH))
    sla_tasks.schedule(ticket.pk, ahead=10)
    # One task for the first timer (armed with the ticket), one shared by the three armed
    # together after it, each due when the first of its timers is.
    results = [r for r in default_task_backend.results if r.task.name == "sla_checks"]
    assert [len(r.kwargs["check_ids"]) for r in results] == [1, 3]
    run_at = dict(SlaCheck.objects.filter(ticket=ticket).values_list("pk", "run_at"))
    assert sorted(pk for r in results for pk in r.kwargs["check_ids"]) == sorted(run_at)
    for r in results:
        assert r.task.run_after == min(run_at[pk] for pk in r.kwargs["check_ids"])


def test_a_shared_task_runs_the_due_checks_and_rearms_itself_for_the_rest(
    db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": []}}
    ticket = make(django_capture_on_commit_callbacks)
    timers = checks(ticket)
    warn, breach = timers["first_reply_warn"], timers["first_reply_breach"]
    ids = [c.pk for c in timers.values()]
    default_task_backend.clear()

    outcome = sla_tasks.run_checks(ids, now=warn.run_at)

    assert outcome.startswith("ran 1 (warned)")
    assert SlaCheck.objects.get(pk=warn.pk).outcome == "warned"
    (rearmed,) = [r for r in default_task_backend.results if r.task.name == "sla_checks"]
    assert warn.pk not in rearmed.kwargs["check_ids"]
    assert breach.pk in rearmed.kwargs["check_ids"]
    assert rearmed.task.run_after == min(c.run_at for c in timers.values() if c.pk != warn.pk)
    # Run again at the same moment (a retried task): nothing is done twice, nothing re-armed.
    default_task_backend.clear()
    assert sla_tasks.run_checks([warn.pk], now=warn.run_at) == "ran 0 (none), re-armed 0"
    assert default_task_backend.results == []


def test_a_failing_check_does_not_stop_the_others_in_its_task(
    db: None, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    first = make(django_capture_on_commit_callbacks)
    second = make(django_capture_on_commit_callbacks)
    bad, good = (checks(t)["first_reply_warn"] for t in (first, second))
    real = sla_tasks._act

    def act(check: SlaCheck, ticket: Ticket, now: datetime) -> str:
        if check.pk == bad.pk:
            raise RuntimeError("mail server down")
        return real(check, ticket, now)

    monkeypatch.setattr(sla_tasks, "_act", act)
    with pytest.raises(RuntimeError, match="mail server down"):
        sla_tasks.run_checks([bad.pk, good.pk], now=bad.run_at)
    assert SlaCheck.objects.get(pk=good.pk).outcome == "warned"
    # The failed one's claim was rolled back with its action: it can still run.
    assert SlaCheck.objects.get(pk=bad.pk).claimed_at is None


def test_breach_escalates_once_and_records_history(
    db: None, alice: Any, root: Any, django_capture_on_commit_callbacks: Any
) -> None:
    team = Team.objects.get(slug="general")
    team.lead = root
    team.save()
    EscalationRule.objects.create(name="raise", action="raise_priority")
    ticket = make(django_capture_on_commit_callbacks)
    breach = checks(ticket)["first_reply_breach"]
    assert sla_tasks.run_check(breach.pk, now=breach.run_at - timedelta(minutes=1)) == "not_due_or_claimed"
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_tasks.run_check(breach.pk, now=breach.run_at) == "escalated:raise_priority"
    assert sla_tasks.run_check(breach.pk, now=breach.run_at) == "not_due_or_claimed"
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds.count("sla_breached") == 1 and kinds.count("escalated") == 1 and "priority_changed" in kinds


def test_no_rule_notifies_the_team_lead(db: None, root: Any, django_capture_on_commit_callbacks: Any) -> None:
    team = Team.objects.get(slug="general")
    team.lead = root
    team.save()
    ticket = make(django_capture_on_commit_callbacks)
    breach = checks(ticket)["first_reply_breach"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_tasks.run_check(breach.pk, now=breach.run_at) == "escalated:notify_lead"
    assert [m.to for m in mail.outbox] == [["root@desk.test"]]
    assert ticket.reference in mail.outbox[0].subject


class DownMailServer(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise SMTPServerDisconnected("mail server down")


def test_an_escalation_stands_when_the_lead_cannot_be_mailed(
    db: None,
    root: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    team = Team.objects.get(slug="general")
    team.lead = root
    team.save()
    ticket = make(django_capture_on_commit_callbacks)
    breach = checks(ticket)["first_reply_breach"]
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.DownMailServer"}}
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_tasks.run_check(breach.pk, now=breach.run_at) == "escalated:notify_lead"
    # Recorded once, and the failed mail is in the log rather than silently dropped.
    assert SlaCheck.objects.get(pk=breach.pk).outcome == "escalated:notify_lead"
    assert f"mailing agents about {ticket.reference} failed" in caplog.text
    assert "mail server down" in caplog.text


def test_reassign_rule(db: None, alice: Any, erin: Any, django_capture_on_commit_callbacks: Any) -> None:
    EscalationRule.objects.create(name="to erin", action="reassign", assign_to=erin, clock="first_reply")
    ticket = make(django_capture_on_commit_callbacks)
    breach = checks(ticket)["first_reply_breach"]
    sla_tasks.run_check(breach.pk, now=breach.run_at)
    ticket.refresh_from_db()
    assert ticket.assignee == erin
    assert TicketEvent.objects.filter(ticket=ticket, kind="assigned").exists()


def test_at_risk_warns_the_assignee(db: None, alice: Any, django_capture_on_commit_callbacks: Any) -> None:
    ticket = make(django_capture_on_commit_callbacks)
    actions.assign(ticket, alice, actor=alice)
    warn = checks(ticket)["first_reply_warn"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_tasks.run_check(warn.pk, now=warn.run_at) == "warned"
    assert [m.to for m in mail.outbox] == [["alice@desk.test"]]
    assert TicketEvent.objects.filter(ticket=ticket, kind="sla_at_risk").count() == 1


def test_a_moved_due_time_makes_old_checks_stale(
    db: None, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make(django_capture_on_commit_callbacks)
    old = checks(ticket)["first_reply_breach"]
    with frozen(MON_10 + timedelta(minutes=5)), django_capture_on_commit_callbacks(execute=True):
        actions.change_priority(ticket, "urgent", actor=alice)
    old.refresh_from_db()
    assert old.outcome == "stale" and old.claimed_at is not None
    new = checks(ticket)["first_reply_breach"]
    assert new.run_at == MON_10 + timedelta(hours=1)
    # A check that slipped through (claimed_at still null) but no longer matches does nothing.
    SlaCheck.objects.filter(pk=old.pk).update(claimed_at=None, outcome="")
    assert sla_tasks.run_check(old.pk, now=old.run_at) == "stale"
    assert not TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").exists()


def test_answered_ticket_breach_check_is_stale(
    db: None, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = make(django_capture_on_commit_callbacks)
    breach = checks(ticket)["first_reply_breach"]
    with django_capture_on_commit_callbacks(execute=True):
        actions.add_agent_message(ticket, "Hello, here is the answer.", agent=alice)
    assert sla_tasks.run_check(breach.pk, now=breach.run_at) in ("stale", "not_due_or_claimed")
    assert not TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").exists()


@pytest.mark.parametrize("answer", [False, True])
def test_pending_reminder_then_autosolve(
    db: None, alice: Any, answer: bool, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PENDING_REMINDER_DAYS, settings.PENDING_AUTOSOLVE_DAYS = 2, 5
    ticket = make(django_capture_on_commit_callbacks)
    with frozen(MON_10 + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        actions.add_agent_message(ticket, "Please send the hash.", agent=alice, new_status="pending")
    got = checks(ticket)
    assert got["pending_reminder"].run_at == MON_10 + timedelta(hours=1, days=2)
    assert got["pending_autosolve"].run_at == MON_10 + timedelta(hours=1, days=5)
    if answer:
        with django_capture_on_commit_callbacks(execute=True):
            actions.add_customer_message(ticket, "Here it is", channel="web")
        assert sla_tasks.run_check(got["pending_autosolve"].pk, now=got["pending_autosolve"].run_at) in (
            "stale",
            "not_due_or_claimed",
        )
        ticket.refresh_from_db()
        assert ticket.status == "open"
        return
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            sla_tasks.run_check(got["pending_reminder"].pk, now=got["pending_reminder"].run_at) == "reminded"
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            sla_tasks.run_check(got["pending_autosolve"].pk, now=got["pending_autosolve"].run_at)
            == "auto_solved"
        )
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {"pending_reminder_sent", "auto_solved", "status_changed"} <= kinds
    assert any("g@example.com" in m.to for m in mail.outbox)


def test_run_due_checks_processes_only_due_ones(db: None, django_capture_on_commit_callbacks: Any) -> None:
    ticket = make(django_capture_on_commit_callbacks)
    warn = checks(ticket)["first_reply_warn"]
    assert sla_tasks.run_due_checks(now=warn.run_at) == 1
    assert sla_tasks.run_due_checks(now=warn.run_at) == 0
