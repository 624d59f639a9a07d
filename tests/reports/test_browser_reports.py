"""Screenshots: the inbox with live SLA countdowns (desktop, phone) and the reports page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser import DESKTOP, PHONE, chromium, login_cookie, shot
from tests.sla.conftest import reseed
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


def _tickets(alice: Any) -> None:
    now = timezone.now()
    specs = [
        ("Transfer stuck for 3 hours", "unauthorised_tx", "web", now - timedelta(minutes=20)),  # breached
        ("转账一直显示等待确认", "fees", "inapp", now + timedelta(minutes=40)),  # at risk
        ("Locked after wrong passwords", "login_locked", "email", now + timedelta(hours=5)),
        ("忘记密码，收不到重置邮件", "forgot_password", "web", now + timedelta(days=1, hours=2)),
        ("Is this support account real?", "scam_report", "wechat", None),  # pending -> paused
    ]
    for i, (subject, category, channel, due) in enumerate(specs):
        ticket = actions.create_ticket(
            NewTicket(
                subject=subject, body=subject, email=f"c{i}@example.com", category=category, channel=channel
            )
        )
        if due is None:
            actions.add_agent_message(ticket, "Can you send a screenshot?", agent=alice, new_status="pending")
            continue
        created = due - timedelta(hours=1 if i < 2 else 9)
        Ticket.objects.filter(pk=ticket.pk).update(first_reply_due=due, created_at=created)
    for i in range(12):
        ticket = actions.create_ticket(
            NewTicket(subject=f"Old {i}", body="x", email=f"o{i}@example.com", category="fees", channel="web")
        )
        back = timedelta(days=i % 9, hours=i)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=now - back - timedelta(hours=3),
            first_replied_at=now - back - timedelta(hours=3) + timedelta(minutes=20 + 25 * i),
            first_reply_due=now - back,
        )
        if i % 3 == 0:
            actions.change_status(ticket, "solved", actor=alice)
            CsatSurvey.objects.create(ticket=ticket, rating="good" if i % 2 == 0 else "bad", answered_at=now)


def test_inbox_countdowns_and_reports(live_server: Any, alice: Any, root: Any) -> None:
    reseed()
    _tickets(alice)
    base = live_server.url
    with chromium() as browser:
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport, locale="en-US")
            context.add_cookies([login_cookie(root, base)])
            page = context.new_page()
            page.goto(f"{base}/agent/?view=open")
            page.wait_for_selector("time[data-countdown]")
            # countdown.js rewrote the server text ("in 40 minutes") into its compact form.
            page.wait_for_function(
                "() => [...document.querySelectorAll('time[data-countdown]')].every(t => /^(in|overdue) \\d/.test(t.textContent))"
            )
            texts = page.locator("time[data-countdown]").all_inner_texts()
            assert texts[0].startswith("overdue")  # sorted by due time: the breached one first
            assert page.locator("tr.sla-breached").count() >= 1
            assert page.locator(".sla-badge.at-risk").count() >= 1
            shot(page, f"sla/inbox-{name}")
            context.close()
        context = browser.new_context(viewport=DESKTOP, locale="en-US")
        context.add_cookies([login_cookie(root, base)])
        page = context.new_page()
        page.goto(f"{base}/agent/reports/")
        page.wait_for_selector("[data-testid=kpis]")
        assert page.locator("svg.chart").count() >= 3
        shot(page, "sla/reports-desktop")
        context.close()
